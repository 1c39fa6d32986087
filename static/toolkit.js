// Follow the room when the facilitator moves on, unless this person is halfway through
// typing something: then the banner the server sent stays, and they go when ready.
// A choice not sent yet (a rating picked, an option selected) counts as much as typed text.
(function () {
  function unsent(field) {
    if (field.type === "hidden") { return false; }
    if (field.type === "radio" || field.type === "checkbox") { return field.checked !== field.defaultChecked; }
    if (field.tagName === "SELECT") {
      // Without a selected attribute a list starts on its first option.
      var start = Array.prototype.findIndex.call(field.options, function (o) { return o.defaultSelected; });
      return field.selectedIndex !== Math.max(start, field.multiple ? -1 : 0);
    }
    return field.value !== field.defaultValue;
  }
  document.addEventListener("room-moved", function () {
    var fields = document.querySelectorAll("main input, main textarea, main select");
    if (!Array.prototype.some.call(fields, unsent)) {
      window.location.reload();
    }
  });
  // What a form sent and the server took is no longer unsent: its fields start over from there.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!event.detail.successful || !form || form.tagName !== "FORM") { return; }
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.type === "radio" || field.type === "checkbox") {
        field.defaultChecked = field.checked;
      } else if (field.tagName === "SELECT") {
        Array.prototype.forEach.call(field.options, function (o) { o.defaultSelected = o.selected; });
      } else if (field.type !== "hidden" && "defaultValue" in field) {
        field.defaultValue = field.value;
      }
    });
  });
})();

// Count down every step timer on the page between the server's updates.
(function () {
  function show(element) {
    if (!element.dataset.endsAt) {
      element.dataset.endsAt = String(Date.now() + Number(element.dataset.secondsLeft) * 1000);
    }
    var left = Math.max(0, Math.round((Number(element.dataset.endsAt) - Date.now()) / 1000));
    var seconds = left % 60;
    element.textContent = Math.floor(left / 60) + ":" + (seconds < 10 ? "0" : "") + seconds;
    element.classList.toggle("expired", left === 0);
  }
  setInterval(function () {
    document.querySelectorAll("time[data-seconds-left]").forEach(show);
  }, 1000);
})();

// Say so when a request cannot reach the server (venue wifi), and clear it once one does.
(function () {
  var shown = null;
  document.addEventListener("htmx:sendError", function () {
    var messages = document.getElementById("messages");
    if (!messages || shown) { return; }
    shown = document.createElement("p");
    shown.className = "message error";
    shown.textContent = document.body.dataset.offlineMessage;
    messages.appendChild(shown);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (shown && event.detail.xhr && event.detail.xhr.status > 0) {
      shown.remove();
      shown = null;
    }
  });
})();

// A swap must not close what someone opened: remember open <details> and open them again.
(function () {
  var open = [];
  document.addEventListener("htmx:beforeSwap", function () {
    open = Array.prototype.map.call(document.querySelectorAll("details[open][id]"), function (d) { return d.id; });
  });
  document.addEventListener("htmx:afterSettle", function () {
    open.forEach(function (id) {
      var details = document.getElementById(id);
      if (details) { details.open = true; }
    });
  });
})();

// A preserved part (hx-preserve) stays as the person left it, focus and all; only its <summary>
// line, which says what the server has on record (such as one's own rating), is brought up to date.
document.addEventListener("htmx:oobBeforeSwap", function (event) {
  var fragment = event.detail.fragment;
  if (!fragment || !fragment.querySelectorAll) { return; }
  fragment.querySelectorAll("details[hx-preserve][id]").forEach(function (fresh) {
    var kept = document.getElementById(fresh.id);
    var summary = fresh.querySelector(":scope > summary");
    var shown = kept && kept.querySelector(":scope > summary");
    if (summary && shown && shown.innerHTML !== summary.innerHTML) {
      shown.innerHTML = summary.innerHTML;
    }
  });
});
