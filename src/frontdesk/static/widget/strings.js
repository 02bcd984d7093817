/* frontdesk chat window, part 1 of 3: its own texts, ru and en (the site's texts come from
 * the widget settings). The server joins strings.js + protocol.js + chat.js into the one
 * /static/widget/chat.js, inside one function (web/pages.py, CHAT_PARTS), so nothing
 * here becomes a global of the customer's page. Pure data: tests/js/catalogs.test.mjs
 * checks that both languages have the same keys and no empty value.
 * "e‑mail" is written with a non-breaking hyphen (U+2011): it never breaks across lines. */
var MSG = {
  ru: {
    role: "Консультант", minimise: "Свернуть чат", close: "Закрыть чат", send: "Отправить",
    input: "Сообщение", log: "Сообщения", sending: "отправляется…", delivered: "доставлено",
    failed: "не отправлено", tooLong: "не отправлено: слишком длинное", empty: "не отправлено: пустое",
    typing: " печатает…", operator: "Оператор", offline: "Нет соединения, переподключаемся…",
    connecting: "Подключаемся…", forbidden: "Чат недоступен на этом сайте.",
    closed: "Диалог завершён. Напишите, если остались вопросы.", today: "Сегодня", yesterday: "Вчера",
    newer: "Новые сообщения", count: "Символов: %n из %m",
    overLimit: "Слишком длинное сообщение: %n из %m символов. Сократите его, чтобы отправить.",
    // offline form, the "operator has left" notice, the contacts form (docs/protocol.md § Offline mode)
    fName: "Имя", fEmail: "E‑mail", fMsg: "Сообщение", fPhone: "Телефон", fNameOpt: "Имя (необязательно)",
    fSend: "Отправить", fBusy: "Отправляем…", back: "Вернуться в чат",
    needName: "Представьтесь, пожалуйста", badName: "Имя — одна строка, не длиннее 100 символов",
    needEmail: "Укажите e‑mail — на него придёт ответ", badEmail: "Проверьте e‑mail: например, name@example.com",
    needMsg: "Напишите сообщение", longMsg: "Слишком длинное сообщение: %n из %m символов",
    rate: "Слишком много сообщений подряд. Попробуйте позже.",
    net: "Не удалось отправить: нет связи. Ничего не потерялось — нажмите «Отправить» ещё раз.",
    srvErr: "Не удалось отправить. Попробуйте ещё раз.",
    thanks: "Спасибо!", thanksMail: "Мы ответим на e‑mail %e. Ответ появится и здесь, в чате.",
    away: "Оператор отошёл. Оставьте e‑mail — ответим на почту",
    nobody: "Сейчас никого нет на месте. Оставьте e‑mail — ответим на почту",
    awayBtn: "Оставить e‑mail",
    awayKnown: "Мы ответим на e‑mail %e — ответ придёт и сюда, в чат.",
    needContact: "Укажите e‑mail или телефон", badPhone: "Проверьте телефон: например, +7 912 345-67-89",
    ctSend: "Оставить контакты", ctSaved: "Спасибо! Мы свяжемся с вами: %e",
    ctNoAnswer: "Сервер не ответил. Попробуйте ещё раз.",
    // the rating after a closed conversation, the "end chat" button
    rateAsk: "Оцените, пожалуйста, как мы помогли", rateStar: "%n из 5", rateUp: "Хорошо", rateDown: "Плохо",
    rateComment: "Комментарий (необязательно)", rateSend: "Отправить оценку", rateNeed: "Выберите оценку",
    rateThanks: "Спасибо за оценку!", rateLong: "Комментарий слишком длинный: не больше 2000 символов",
    endChat: "Завершить диалог",
    // the transcript by e-mail (docs/reports.md § Transcripts and export): %e the address
    trOpen: "Отправить переписку на e‑mail", trEmail: "Ваш e‑mail", trSend: "Отправить переписку",
    trSent: "Переписка отправлена на %e", trRate: "Переписку уже отправляли недавно. Попробуйте позже.",
    trOff: "Отправка переписки на e‑mail на этом сайте выключена.",
    // a ban covers this visitor or address (docs/moderation.md): neutral, says nothing about why
    banned: "Чат сейчас недоступен.", bannedMore: "Свяжитесь с нами другим способом.",
    // departments before the first message, the place in the queue (automatic routing)
    depAsk: "Выберите отдел — так ответит нужный специалист", queue: "Вы в очереди: %n. Оператор скоро ответит.",
    // when the shop opens next (protocol.js nextOpenText): %d the day, %t the time
    openToday: "Мы откроемся сегодня в %t", openTomorrow: "Мы откроемся завтра в %t",
    openWeekday: "Мы откроемся %d в %t", openDate: "Мы откроемся %d в %t",
    weekdays: ["в воскресенье", "в понедельник", "во вторник", "в среду", "в четверг", "в пятницу", "в субботу"],
    months: ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
      "ноября", "декабря"]
  },
  en: {
    role: "Consultant", minimise: "Minimise chat", close: "Close chat", send: "Send",
    input: "Message", log: "Messages", sending: "sending…", delivered: "delivered",
    failed: "not sent", tooLong: "not sent: too long", empty: "not sent: empty",
    typing: " is typing…", operator: "Operator", offline: "No connection, reconnecting…",
    connecting: "Connecting…", forbidden: "The chat is not available on this site.",
    closed: "The conversation has ended. Write to us if you have more questions.", today: "Today",
    yesterday: "Yesterday", newer: "New messages", count: "Characters: %n of %m",
    overLimit: "The message is too long: %n of %m characters. Shorten it to send.",
    fName: "Name", fEmail: "E‑mail", fMsg: "Message", fPhone: "Phone", fNameOpt: "Name (optional)",
    fSend: "Send", fBusy: "Sending…", back: "Back to the chat",
    needName: "Please tell us your name", badName: "The name is one line of at most 100 characters",
    needEmail: "Your e‑mail, so that we can reply", badEmail: "Check the e‑mail, e.g. name@example.com",
    needMsg: "Please write a message", longMsg: "The message is too long: %n of %m characters",
    rate: "Too many messages in a row. Please try again later.",
    net: "Not sent: no connection. Nothing is lost — press Send again.",
    srvErr: "Not sent. Please try again.",
    thanks: "Thank you!", thanksMail: "We will reply to %e. The answer will also appear here, in the chat.",
    away: "The operator has left. Leave your e‑mail and we will reply there",
    nobody: "Nobody is available right now. Leave your e‑mail and we will reply there",
    awayBtn: "Leave e‑mail",
    awayKnown: "We will reply to %e — the answer will also come here, to the chat.",
    needContact: "Leave an e‑mail or a phone number", badPhone: "Check the phone number, e.g. +1 202 555 0143",
    ctSend: "Leave contacts", ctSaved: "Thank you! We will get in touch: %e",
    ctNoAnswer: "The server did not answer. Please try again.",
    rateAsk: "Please rate how we helped", rateStar: "%n of 5", rateUp: "Good", rateDown: "Bad",
    rateComment: "Comment (optional)", rateSend: "Send rating", rateNeed: "Choose a rating",
    rateThanks: "Thank you for your rating!", rateLong: "The comment is too long: 2,000 characters at most",
    endChat: "End the chat",
    trOpen: "Send the transcript by e‑mail", trEmail: "Your e‑mail", trSend: "Send the transcript",
    trSent: "The transcript was sent to %e", trRate: "The transcript was sent recently. Please try again later.",
    trOff: "Sending transcripts by e‑mail is turned off on this site.",
    banned: "The chat is not available right now.", bannedMore: "Please contact us another way.",
    depAsk: "Choose a department to reach the right person", queue: "You are number %n in the queue. An operator will answer soon.",
    openToday: "We open today at %t", openTomorrow: "We open tomorrow at %t",
    openWeekday: "We open on %d at %t", openDate: "We open on %d at %t",
    weekdays: ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
    months: ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
      "November", "December"]
  }
};
