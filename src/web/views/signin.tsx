// Sign-in: a token (from `keel token create`) is exchanged for an HttpOnly session cookie; the page keeps only the
// CSRF token the server hands back.
import { useState } from "preact/hooks";
import { signIn } from "../api";
import { navigate } from "../router";
import { ErrorBox } from "../ui";
import type { ViewProps } from "./index";

export default function SignIn({ query }: ViewProps) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = (e: Event) => {
    e.preventDefault();
    setBusy(true);
    signIn(token.trim()).then(
      () => {
        dispatchEvent(new Event("keel:session"));
        const next = query.get("next");
        navigate(next?.startsWith("/") && !next.startsWith("//") ? next : "/");
      },
      (err: Error) => {
        setError(err);
        setBusy(false);
      },
    );
  };
  return (
    <section class="card signin">
      <h1>Sign in to Keel</h1>
      <p>
        Paste a token from <code>keel token create</code>. It is exchanged for a session cookie this page
        cannot read.
      </p>
      <form onSubmit={submit}>
        <label for="token">Token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          required
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={busy || token.trim() === ""}>
          Sign in
        </button>
      </form>
      <ErrorBox error={error} />
    </section>
  );
}
