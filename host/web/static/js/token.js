// The control token: asked once in a dialog, kept in sessionStorage for this tab only.

const KEY = "lumenrig.token";
let pending = null;

export function getToken() {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

function changed() {
  window.dispatchEvent(new CustomEvent("tokenchange", { detail: { set: Boolean(getToken()) } }));
}

export function forgetToken() {
  sessionStorage.removeItem(KEY);
  changed();
}

/**
 * Show the token dialog (one at a time; concurrent callers share it).
 * Resolves to the token, or null when the person cancels.
 */
export function askToken(reason) {
  if (pending) return pending;
  const dialog = document.getElementById("token-dialog");
  const input = dialog.querySelector("input[name=token]");
  dialog.querySelector(".reason").textContent = reason || "";
  input.value = "";
  dialog.returnValue = "";
  pending = new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      pending = null;
      const token = dialog.returnValue === "save" ? input.value.trim() : "";
      if (token) {
        sessionStorage.setItem(KEY, token);
        changed();
      }
      resolve(token || null);
    }, { once: true });
  });
  dialog.showModal();
  input.focus();
  return pending;
}
