// Behaviour that used to sit in inline handlers, which the Content-Security-Policy forbids:
//   <button data-print>                 prints the page
//   <form data-confirm="Question ?">    asks before submitting
//   <a data-back href="/fallback">      goes back in the history when there is one
//   <select data-autosubmit>            submits its form when changed
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("[data-print], [data-back]") : null;
    if (!target) return;
    if (target.hasAttribute("data-print")) {
      event.preventDefault();
      window.print();
    } else if (target.hasAttribute("data-back") && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.hasAttribute && field.hasAttribute("data-autosubmit") && field.form) field.form.submit();
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);
})();
