// Sign-in and sign-up: one form, two modes. Field errors come from the API's errors[].field
// and sit beside their field; after signing in the user returns to the page they were on.
import { useState, type FormEvent } from "react";
import { Link, Navigate, useLocation, useNavigate } from "react-router";

import type { SignedOutReason } from "../auth/client";
import { Field, fieldErrorOf } from "../components/Field";
import { ProblemMessage } from "../components/ProblemMessage";
import { useAuth, useAuthState } from "../session/auth-context";

const reasons: Record<SignedOutReason, string> = {
  "signed-out": "You have signed out.",
  "session-ended":
    "Your session has ended: it was signed out on another device, or the password was changed. Please sign in again.",
  "other-tab": "You signed out in another tab.",
};

export type ReturnTo = { from?: string };

export function AuthPage({ mode }: { mode: "sign-in" | "sign-up" }) {
  const auth = useAuth();
  const state = useAuthState();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as ReturnTo | null)?.from ?? "/";
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  if (state.status === "signed-in") {
    return <Navigate to={from} replace />;
  }

  const fieldError = (field: string) => fieldErrorOf(error, field);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === "sign-in") {
        await auth.signIn(email, password);
      } else {
        await auth.signUp(email, password, name.trim() || undefined);
      }
      navigate(from, { replace: true });
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  const signingIn = mode === "sign-in";
  const reason = state.status === "signed-out" && state.reason ? reasons[state.reason] : null;
  // A field error is shown beside its field; any other failure (or an error for a field this
  // form does not have) in the general message.
  const shownFields = signingIn ? ["email", "password"] : ["name", "email", "password"];
  const hasFieldErrors = shownFields.some((field) => fieldError(field));
  return (
    <main className="auth-page">
      <h1>{signingIn ? "Sign in to Taskgate" : "Create your Taskgate account"}</h1>
      {reason && (
        <p role="status" className="notice">
          {reason}
        </p>
      )}
      <form onSubmit={submit} noValidate>
        {!signingIn && (
          <Field
            label="Name (optional)"
            autoComplete="name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            error={fieldError("name")}
          />
        )}
        <Field
          label="Email"
          type="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={fieldError("email")}
        />
        <Field
          label="Password"
          type="password"
          autoComplete={signingIn ? "current-password" : "new-password"}
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={fieldError("password")}
        />
        {!hasFieldErrors && <ProblemMessage error={error} />}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Please wait…" : signingIn ? "Sign in" : "Sign up"}
        </button>
      </form>
      <p>
        {signingIn ? (
          <>
            New here? <Link to="/sign-up" state={location.state}>Create an account</Link>
          </>
        ) : (
          <>
            Have an account? <Link to="/sign-in" state={location.state}>Sign in</Link>
          </>
        )}
      </p>
    </main>
  );
}
