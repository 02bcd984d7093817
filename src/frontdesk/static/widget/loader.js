/* widget loader: built in issue 4 */
