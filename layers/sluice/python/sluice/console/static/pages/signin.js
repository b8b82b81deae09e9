// Sign in: POST /auth/token with a user name and password; the tokens go to sessionStorage.

import { signIn } from "../api.js";
import { fill, h, onSubmit } from "../ui.js";

export async function signInPage(main) {
  document.getElementById("nav").hidden = true;
  const form = h(
    "form",
    { class: "card narrow", "aria-label": "Sign in" },
    h("h1", {}, "Sign in"),
    h("label", {}, "User name", h("input", { name: "username", autocomplete: "username", required: true })),
    h("label", {}, "Password", h("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
    h("button", { type: "submit" }, "Sign in"),
  );
  onSubmit(form, async (data) => {
    await signIn(data.get("username"), data.get("password"));
    const next = sessionStorage.getItem("sluice.after-signin") || "#/datasets";
    sessionStorage.removeItem("sluice.after-signin");
    location.hash = next === "#/signin" ? "#/datasets" : next;
  });
  fill(main, form);
  form.querySelector("input").focus();
}
