// The team chat's live page: it asks the server what changed every 1.5 s while the
// page is visible, holding what it has (the open channel's sequence number, the digests
// of the channel list and of the members), so that only what changed comes back (an
// empty 204 when nothing did). The same request says how far the open channel was seen
// while in view, and whether the user is active (presence). It posts without reloading
// and offers emoji and @mentions. Without it, the chat still works: the forms post and
// the page shows the messages on reload.
(function () {
  "use strict";

  var root = document.querySelector("[data-chat]");
  if (!root || !window.fetch) return;

  var HIDDEN_INTERVAL = 15000;
  var ACTIVE_WITHIN = 60000;
  var interval = parseInt(root.dataset.interval, 10) || 1500;
  var channel = root.dataset.channel;
  var after = root.dataset.after;
  var live = root.dataset.live === "true";
  var newestFirst = root.dataset.newestFirst === "true";
  var panelSize = parseInt(root.dataset.panel || "0", 10);
  var list = root.querySelector(".chat-messages");
  var form = root.querySelector(".chat-form");
  var input = form ? form.querySelector("textarea") : null;
  var marks = "";
  var people = "";
  var seen = 0;
  var told = 0;
  var lastInput = Date.now();
  var timer = null;
  var busy = false;

  ["keydown", "pointerdown", "scroll", "focus"].forEach(function (name) {
    window.addEventListener(name, function () { lastInput = Date.now(); }, { passive: true });
  });

  function visible() { return document.visibilityState === "visible"; }

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(poll, delay === undefined ? (visible() ? interval : HIDDEN_INTERVAL) : delay);
  }

  function replaceFragment(name, html) {
    if (html === null || html === undefined) return;
    var box = root.querySelector('[data-chat-fragment="' + name + '"]');
    if (box) box.innerHTML = html;
  }

  function setTotal(total) {
    document.querySelectorAll("[data-chat-total]").forEach(function (badge) {
      var hidden = badge.querySelector(".visually-hidden");
      badge.textContent = total > 99 ? "99+" : String(total);
      if (hidden) badge.appendChild(hidden);
      badge.hidden = total === 0;
    });
  }

  function nearEnd() {
    if (newestFirst) return window.scrollY < 200;
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 200;
  }

  function addMessages(messages) {
    if (!list || !messages.length) return 0;
    var follow = nearEnd();
    var highest = 0;
    messages.forEach(function (message) {
      var holder = document.createElement("template");
      holder.innerHTML = message.html.trim();
      var item = holder.content.firstElementChild;
      var existing = document.getElementById("message-" + message.id);
      if (existing) {
        existing.replaceWith(item);
      } else if (newestFirst) {
        list.insertBefore(item, list.firstElementChild);
      } else {
        list.appendChild(item);
      }
      highest = Math.max(highest, message.id);
    });
    var empty = document.getElementById("chat-empty");
    if (empty) empty.remove();
    while (panelSize && list.children.length > panelSize) list.removeChild(list.firstElementChild);
    if (follow && !panelSize && !newestFirst) window.scrollTo(0, document.body.scrollHeight);
    return highest;
  }

  function poll() {
    if (busy) return schedule();
    busy = true;
    var params = new URLSearchParams({
      channel: channel,
      marks: marks,
      active: Date.now() - lastInput < ACTIVE_WITHIN ? "1" : "0"
    });
    if (!panelSize) params.set("people", people);
    if (live) params.set("after", after);
    // The open channel is read as far as it was shown while in view (never the panel's).
    var reading = live && !panelSize && seen > told && visible() ? seen : 0;
    if (reading) params.set("read", String(reading));
    fetch(root.dataset.updatesUrl + "?" + params.toString(), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 204) return null;
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) {
        told = Math.max(told, reading);
        if (!data) return;
        if (data.reload) { window.location.reload(); return; }
        if (data.marks !== undefined) {
          marks = data.marks;
          replaceFragment("channels", data.channels);
          setTotal(data.total);
        }
        if (data.people_digest !== undefined) {
          people = data.people_digest;
          replaceFragment("people", data.people);
        }
        if (data.messages) {
          var highest = addMessages(data.messages);
          after = data.after;
          if (visible()) seen = Math.max(seen, highest);
        }
        if (data.archived && form) form.hidden = true;
      })
      .catch(function () { /* the next turn asks again */ })
      .then(function () { busy = false; schedule(); });
  }

  function highestShown() {
    if (!list) return 0;
    return Array.prototype.reduce.call(list.children, function (highest, item) {
      return Math.max(highest, parseInt(item.dataset.id || "0", 10));
    }, 0);
  }

  document.addEventListener("visibilitychange", function () {
    if (!visible()) return;
    seen = Math.max(seen, highestShown());
    schedule(0);
  });

  // Posting without a reload; on any failure the form posts as it would without us.
  if (form && input) {
    form.addEventListener("submit", function (event) {
      if (!input.value.trim()) return;
      event.preventDefault();
      var data = new FormData(form);
      var button = form.querySelector("[type=submit]");
      if (button) button.disabled = true;
      fetch(form.action, { method: "POST", body: data, headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          return response.json().then(function (body) { return { status: response.status, body: body }; });
        })
        .then(function (result) {
          var error = form.querySelector(".chat-error");
          if (result.status === 201) {
            input.value = "";
            if (error) error.remove();
            schedule(0);
            return;
          }
          if (!error) {
            error = document.createElement("p");
            error.className = "error chat-error";
            error.setAttribute("role", "alert");
            input.insertAdjacentElement("afterend", error);
          }
          error.textContent = (result.body.errors || []).join(" ");
        })
        .catch(function () { form.submit(); })
        .then(function () { if (button) button.disabled = false; input.focus(); });
    });

    input.addEventListener("keydown", function (event) {
      if (suggestions && !suggestions.hidden && handleSuggestionKey(event)) return;
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }

  function insertText(text) {
    if (!input) return;
    var start = input.selectionStart, end = input.selectionEnd;
    var before = input.value.slice(0, start);
    if (text.charAt(0) === "@" && before && !/\s$/.test(before)) text = " " + text;
    input.value = before + text + input.value.slice(end);
    var position = start + text.length;
    input.focus();
    input.setSelectionRange(position, position);
  }

  // Emoji picker: shown only here, where it can insert at the cursor. It closes when an
  // emoji is chosen, on Escape (back to its button) and on a click elsewhere.
  var pickers = root.querySelectorAll(".emoji-picker");
  pickers.forEach(function (picker) {
    picker.hidden = false;
    picker.addEventListener("click", function (event) {
      var button = event.target.closest("[data-emoji]");
      if (!button) return;
      insertText(button.dataset.emoji);
      picker.open = false;
    });
    picker.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || !picker.open) return;
      event.preventDefault();
      picker.open = false;
      picker.querySelector("summary").focus();
    });
  });
  document.addEventListener("click", function (event) {
    pickers.forEach(function (picker) {
      if (picker.open && !picker.contains(event.target)) picker.open = false;
    });
  });

  // A double-click (or Enter) on a member's name adds them, as the seed's recipients.
  root.addEventListener("dblclick", function (event) {
    var name = event.target.closest(".mention-add");
    if (name) insertText("@" + name.dataset.handle + " ");
  });
  root.addEventListener("keydown", function (event) {
    var name = event.target.closest(".mention-add");
    if (name && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      insertText("@" + name.dataset.handle + " ");
    }
  });

  // Typing @ offers the members whose nickname or name starts with what follows.
  var suggestions = root.querySelector(".mention-suggestions");
  var chosen = 0;

  function handles() {
    var seen = {};
    return Array.prototype.map.call(root.querySelectorAll(".mention-add[data-handle]"), function (button) {
      return { handle: button.dataset.handle, name: button.textContent.trim() };
    }).filter(function (person) {
      if (seen[person.handle]) return false;
      seen[person.handle] = true;
      return true;
    });
  }

  function typedMention() {
    var before = input.value.slice(0, input.selectionStart);
    var found = /(^|\s)@([\w.-]*)$/u.exec(before);
    return found ? found[2] : null;
  }

  function showSuggestions() {
    var typed = typedMention();
    if (typed === null) { suggestions.hidden = true; return; }
    var wanted = typed.toLowerCase();
    var matches = handles().filter(function (person) {
      return person.handle.toLowerCase().indexOf(wanted) === 0 || person.name.toLowerCase().indexOf(wanted) === 0;
    }).slice(0, 8);
    suggestions.innerHTML = "";
    matches.forEach(function (person, index) {
      var option = document.createElement("li");
      option.setAttribute("role", "option");
      option.id = "mention-option-" + index;
      option.dataset.handle = person.handle;
      option.textContent = person.name + " (@" + person.handle + ")";
      option.addEventListener("mousedown", function (event) { event.preventDefault(); choose(person.handle); });
      suggestions.appendChild(option);
    });
    chosen = 0;
    suggestions.hidden = matches.length === 0;
    highlight();
  }

  function highlight() {
    Array.prototype.forEach.call(suggestions.children, function (option, index) {
      option.setAttribute("aria-selected", index === chosen ? "true" : "false");
    });
    if (!suggestions.hidden && suggestions.children[chosen]) {
      input.setAttribute("aria-activedescendant", suggestions.children[chosen].id);
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function choose(handle) {
    var typed = typedMention() || "";
    var start = input.selectionStart - typed.length - 1;
    input.setSelectionRange(start, input.selectionStart);
    insertText("@" + handle + " ");
    suggestions.hidden = true;
    highlight();
  }

  function handleSuggestionKey(event) {
    var count = suggestions.children.length;
    if (event.key === "ArrowDown") { chosen = (chosen + 1) % count; highlight(); }
    else if (event.key === "ArrowUp") { chosen = (chosen - 1 + count) % count; highlight(); }
    else if (event.key === "Enter" || event.key === "Tab") { choose(suggestions.children[chosen].dataset.handle); }
    else if (event.key === "Escape") { suggestions.hidden = true; highlight(); }
    else return false;
    event.preventDefault();
    return true;
  }

  if (input && suggestions) {
    input.setAttribute("aria-controls", suggestions.id);
    input.setAttribute("aria-autocomplete", "list");
    input.addEventListener("input", showSuggestions);
    input.addEventListener("blur", function () { suggestions.hidden = true; highlight(); });
  }

  if (!newestFirst && !panelSize && list && list.lastElementChild && !window.location.hash) {
    list.lastElementChild.scrollIntoView({ block: "end" });
  }
  schedule(interval);
})();
