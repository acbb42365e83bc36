// Passkeys (WebAuthn) on three pages: signing in with one on /login (the button, and the
// browser's autofill of passkeys, "conditional UI"), using one as the second step on
// /login/factor, and adding one from /account. The server's JSON is webauthn-rs's, with binary
// fields in base64url; the browser API wants ArrayBuffers, so both ways are converted here.
// Pages without the hooks below are left alone; without WebAuthn the pages keep their forms.
(function () {
  "use strict";
  var loginBox = document.querySelector("[data-passkey-login]");
  var factorBox = document.querySelector("[data-passkey-factor]");
  var registerForm = document.getElementById("passkey-register");
  if (!loginBox && !factorBox && !registerForm) {
    return;
  }
  var status = document.getElementById("passkey-status");
  var supported = Boolean(window.PublicKeyCredential && navigator.credentials);

  // ---- base64url <-> ArrayBuffer (the server sends unpadded base64url). ----

  function bufferFrom(text) {
    var b64 = String(text).replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
    while (b64.length % 4) {
      b64 += "=";
    }
    var binary = atob(b64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function base64url(buffer) {
    var bytes = ArrayBuffer.isView(buffer)
      ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
      : new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // ---- Server JSON -> WebAuthn options. ----

  var UNREADABLE =
    "Authify sent passkey options this page cannot read. Reload the page and try again.";

  /** A copy of `value` without null members: Chromium refuses some (`hints: null`). */
  function withoutNulls(value) {
    if (Array.isArray(value)) {
      return value.filter(function (v) { return v !== null; }).map(withoutNulls);
    }
    if (value && typeof value === "object") {
      var out = {};
      Object.keys(value).forEach(function (key) {
        if (value[key] !== null && value[key] !== undefined) {
          out[key] = withoutNulls(value[key]);
        }
      });
      return out;
    }
    return value;
  }

  function descriptors(list) {
    return list.map(function (d) {
      var out = { type: d.type, id: bufferFrom(d.id) };
      if (d.transports) {
        out.transports = d.transports;
      }
      return out;
    });
  }

  /** `publicKey` of webauthn-rs's RequestChallengeResponse, for navigator.credentials.get. */
  function requestOptions(json) {
    var pk = withoutNulls(json && json.publicKey);
    if (!pk || typeof pk.challenge !== "string") {
      throw shown(UNREADABLE);
    }
    pk.challenge = bufferFrom(pk.challenge);
    if (pk.allowCredentials) {
      pk.allowCredentials = descriptors(pk.allowCredentials);
    }
    var secret = pk.extensions && pk.extensions.hmacGetSecret;
    if (secret) {
      secret.output1 = bufferFrom(secret.output1);
      if (secret.output2) {
        secret.output2 = bufferFrom(secret.output2);
      }
    }
    return pk;
  }

  /** `publicKey` of webauthn-rs's CreationChallengeResponse, for navigator.credentials.create. */
  function creationOptions(json) {
    var pk = withoutNulls(json && json.publicKey);
    if (!pk || typeof pk.challenge !== "string" || !pk.user) {
      throw shown(UNREADABLE);
    }
    pk.challenge = bufferFrom(pk.challenge);
    pk.user.id = bufferFrom(pk.user.id);
    if (pk.excludeCredentials) {
      pk.excludeCredentials = descriptors(pk.excludeCredentials);
    }
    return pk;
  }

  // ---- WebAuthn results -> server JSON (webauthn-rs's PublicKeyCredential and
  // RegisterPublicKeyCredential). ----

  /** The client extension results webauthn-rs reads, and nothing binary. */
  function extensionResults(credential) {
    var all = typeof credential.getClientExtensionResults === "function"
      ? credential.getClientExtensionResults()
      : {};
    var out = {};
    if (typeof all.appid === "boolean") {
      out.appid = all.appid;
    }
    if (all.credProps && typeof all.credProps.rk === "boolean") {
      out.credProps = { rk: all.credProps.rk };
    }
    return out;
  }

  function assertionJson(credential) {
    var r = credential.response;
    return {
      id: credential.id,
      rawId: base64url(credential.rawId),
      type: credential.type,
      response: {
        authenticatorData: base64url(r.authenticatorData),
        clientDataJSON: base64url(r.clientDataJSON),
        signature: base64url(r.signature),
        userHandle: r.userHandle && r.userHandle.byteLength ? base64url(r.userHandle) : null
      },
      extensions: extensionResults(credential)
    };
  }

  function attestationJson(credential) {
    var r = credential.response;
    var response = {
      attestationObject: base64url(r.attestationObject),
      clientDataJSON: base64url(r.clientDataJSON)
    };
    if (typeof r.getTransports === "function") {
      response.transports = r.getTransports();
    }
    return {
      id: credential.id,
      rawId: base64url(credential.rawId),
      type: credential.type,
      response: response,
      extensions: extensionResults(credential)
    };
  }

  // ---- Talking to Authify. ----

  /** An error whose message is fit to show as it is. */
  function shown(message) {
    var err = new Error(message);
    err.shown = true;
    return err;
  }

  /** POSTs `body` as JSON; resolves to the answer's JSON, or rejects with its `message`. */
  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRF-Token": csrf
      },
      body: JSON.stringify(body)
    }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (data) {
        if (res.ok && data) {
          return data;
        }
        if (data && typeof data.message === "string" && data.message) {
          throw shown(data.message);
        }
        throw shown("Authify could not finish this (" + res.status + "). " +
          "Reload the page and try again.");
      });
    }, function () {
      throw shown("Authify could not be reached. Check your connection and try again.");
    });
  }

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  /** The sentence for a failed ceremony; `cancelled` when the person (or a timeout) ended it. */
  function describe(err, cancelled) {
    if (err && err.shown) {
      return err.message;
    }
    switch (err && err.name) {
      case "AbortError":
      case "NotAllowedError":
        return cancelled;
      case "InvalidStateError":
        return "This device already holds a passkey for your account.";
      case "SecurityError":
        return "Passkeys cannot be used on this address.";
      case "NotSupportedError":
        return "This device cannot make the kind of passkey Authify asks for.";
      default:
        return "The passkey did not work. Try again, or use another way.";
    }
  }

  function go(answer) {
    if (!answer || typeof answer.location !== "string") {
      throw shown("Authify did not say where to go next. Reload the page and try again.");
    }
    window.location.assign(answer.location);
  }

  // ---- /login and /login/factor: sign in with a passkey. ----

  function setUpSignIn(box, button, conditional) {
    var csrf = box.getAttribute("data-csrf") || "";
    var cancelled = "Passkey sign-in was cancelled.";
    // The background (autofill) request, and a promise that settles once it is over.
    var background = null;
    var backgroundDone = Promise.resolve();

    function finish(credential) {
      return post("/webauthn/login/finish", csrf, assertionJson(credential)).then(go);
    }

    function startBackground() {
      var ask = PublicKeyCredential.isConditionalMediationAvailable;
      if (!conditional || typeof ask !== "function") {
        return;
      }
      ask.call(PublicKeyCredential).then(function (available) {
        if (!available || background || button.disabled) {
          return;
        }
        var controller = new AbortController();
        background = controller;
        backgroundDone = post("/webauthn/login/options", csrf, {}).then(function (options) {
          if (controller.signal.aborted) {
            return null;
          }
          return navigator.credentials.get({
            publicKey: requestOptions(options),
            mediation: "conditional",
            signal: controller.signal
          });
        }).then(function (credential) {
          if (!credential || controller.signal.aborted) {
            return;
          }
          button.disabled = true;
          say("");
          return finish(credential);
        }).catch(function (err) {
          if (controller.signal.aborted) {
            return;
          }
          button.disabled = false;
          // The person did not ask for this one: only what the server refused is worth saying.
          if (err && err.shown) {
            say(err.message);
          }
        }).then(function () {
          if (background === controller) {
            background = null;
          }
        });
      }).catch(function () {});
    }

    button.addEventListener("click", function () {
      if (button.disabled) {
        return;
      }
      button.disabled = true;
      say("");
      if (background) {
        background.abort();
      }
      // The server keeps one ceremony per sign-in and a new options call replaces it:
      // the background request must be over (its options call landed, its get aborted) before
      // this one asks for options, or it could replace this one's challenge.
      backgroundDone.then(function () {
        return post("/webauthn/login/options", csrf, {});
      }).then(function (options) {
        return navigator.credentials.get({ publicKey: requestOptions(options) });
      }).then(function (credential) {
        if (!credential) {
          throw shown(cancelled);
        }
        return finish(credential);
      }).catch(function (err) {
        say(describe(err, cancelled));
        button.disabled = false;
        startBackground();
      });
    });

    startBackground();
  }

  if (loginBox) {
    var signInButton = document.getElementById("passkey-signin");
    if (supported && signInButton) {
      loginBox.hidden = false;
      setUpSignIn(loginBox, signInButton, true);
    }
  }

  if (factorBox) {
    var verifyButton = document.getElementById("passkey-verify");
    if (verifyButton) {
      if (supported) {
        setUpSignIn(factorBox, verifyButton, false);
      } else {
        verifyButton.disabled = true;
        say("This browser does not support passkeys.");
      }
    }
  }

  // ---- /account: add a passkey. ----

  if (registerForm) {
    var submit = registerForm.querySelector('button[type="submit"], button:not([type])');
    if (!supported) {
      if (submit) {
        submit.disabled = true;
      }
      say("This browser does not support passkeys.");
    } else {
      var csrf = registerForm.getAttribute("data-csrf") || "";
      var nameInput = document.getElementById("passkey-name");
      var passwordInput = document.getElementById("passkey-password");
      var recovery = document.getElementById("passkey-recovery");
      var codeList = document.getElementById("passkey-recovery-codes");

      var showCodes = function (codes) {
        while (codeList.firstChild) {
          codeList.removeChild(codeList.firstChild);
        }
        codes.forEach(function (code) {
          var item = document.createElement("li");
          item.className = "recovery-code";
          var text = document.createElement("code");
          text.textContent = String(code);
          item.appendChild(text);
          codeList.appendChild(item);
        });
        passwordInput.value = "";
        registerForm.hidden = true;
        recovery.hidden = false;
        recovery.focus();
      };

      registerForm.addEventListener("submit", function (event) {
        event.preventDefault();
        if (submit && submit.disabled) {
          return;
        }
        if (submit) {
          submit.disabled = true;
        }
        say("");
        post("/webauthn/register/options", csrf, {
          name: nameInput ? nameInput.value : "",
          password: passwordInput ? passwordInput.value : ""
        }).then(function (options) {
          return navigator.credentials.create({ publicKey: creationOptions(options) });
        }).then(function (credential) {
          if (!credential) {
            throw shown("Adding the passkey was cancelled.");
          }
          return post("/webauthn/register/finish", csrf, attestationJson(credential));
        }).then(function (answer) {
          var codes = answer && Array.isArray(answer.recovery_codes) ? answer.recovery_codes : [];
          if (codes.length && recovery && codeList) {
            say("Your passkey was added.");
            showCodes(codes);
          } else {
            go(answer);
          }
        }).catch(function (err) {
          say(describe(err, "Adding the passkey was cancelled."));
          if (submit) {
            submit.disabled = false;
          }
        });
      });
    }
  }
})();
