// Passkey ceremonies: a form marked data-passkey="create" or "get" carries the options
// the server made (data-passkey-options, JSON with base64url bytes). Its button asks the
// browser for a passkey, puts the browser's answer (JSON) in the form's hidden "response"
// field and sends the form. Forms stay hidden where the browser has no WebAuthn.
(function () {
  "use strict";

  function bytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    var text = atob(base64 + "===".slice((base64.length + 3) % 4));
    var out = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    return out.buffer;
  }

  function base64url(buffer) {
    var text = "";
    new Uint8Array(buffer).forEach(function (b) { text += String.fromCharCode(b); });
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: bytes(item.id) });
    });
  }

  function creationOptions(options) {
    return Object.assign({}, options, {
      challenge: bytes(options.challenge),
      user: Object.assign({}, options.user, { id: bytes(options.user.id) }),
      excludeCredentials: descriptors(options.excludeCredentials),
    });
  }

  function requestOptions(options) {
    return Object.assign({}, options, {
      challenge: bytes(options.challenge),
      allowCredentials: descriptors(options.allowCredentials),
    });
  }

  function answer(credential) {
    if (typeof credential.toJSON === "function") return credential.toJSON();
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: base64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: base64url(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      out.response.attestationObject = base64url(response.attestationObject);
      out.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      out.response.authenticatorData = base64url(response.authenticatorData);
      out.response.signature = base64url(response.signature);
      if (response.userHandle) out.response.userHandle = base64url(response.userHandle);
    }
    return out;
  }

  function ceremony(form) {
    var options = JSON.parse(form.dataset.passkeyOptions);
    if (form.dataset.passkey === "create") {
      return navigator.credentials.create({ publicKey: creationOptions(options) });
    }
    return navigator.credentials.get({ publicKey: requestOptions(options) });
  }

  function start(form) {
    var error = form.querySelector("[data-passkey-error]");
    var button = form.querySelector("button[type=submit]");
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      var name = form.querySelector("input[name=name]");
      // Without a name the server says so at the field; no passkey is made for nothing.
      if (name && !name.value.trim()) return;
      event.preventDefault();
      error.hidden = true;
      button.disabled = true;
      ceremony(form).then(function (credential) {
        form.querySelector("input[name$=response]").value = JSON.stringify(answer(credential));
        form.submit();
      }).catch(function () {
        error.textContent = form.dataset.passkeyFailed;
        error.hidden = false;
        button.disabled = false;
      });
    });
  }

  if (!window.PublicKeyCredential || !navigator.credentials) return;
  document.querySelectorAll("[data-passkey-unsupported]").forEach(function (hint) {
    hint.hidden = true;
  });
  document.querySelectorAll("form[data-passkey]").forEach(start);
})();
