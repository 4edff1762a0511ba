// The account: live sessions (device, address, last used, "this device") with revoke for the
// others, password change, sign-out, and account deletion behind the password.
import { useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { accountApi, type SessionInfo } from "../api/account";
import { Field, fieldErrorOf } from "../components/Field";
import { ProblemMessage } from "../components/ProblemMessage";
import { useAuth, useAuthState } from "../session/auth-context";

/** A short device name from a User-Agent string ("Chrome on Linux"). */
function device(userAgent: string | null): string {
  if (!userAgent) return "Unknown device";
  const browser = /Edg\//.test(userAgent)
    ? "Edge"
    : /Firefox\//.test(userAgent)
      ? "Firefox"
      : /Chrom(e|ium)\//.test(userAgent)
        ? "Chrome"
        : /Safari\//.test(userAgent)
          ? "Safari"
          : userAgent.split(/[\s/]/)[0] ?? "Browser";
  const system = /Android/.test(userAgent)
    ? "Android"
    : /iPhone|iPad/.test(userAgent)
      ? "iOS"
      : /Windows/.test(userAgent)
        ? "Windows"
        : /Mac OS X/.test(userAgent)
          ? "macOS"
          : /Linux/.test(userAgent)
            ? "Linux"
            : null;
  return system ? `${browser} on ${system}` : browser;
}

export function AccountPage() {
  const auth = useAuth();
  const state = useAuthState();
  const api = useMemo(() => accountApi(auth), [auth]);
  const queryClient = useQueryClient();
  const sessions = useQuery({ queryKey: ["sessions"], queryFn: () => api.sessions() });
  const revoke = useMutation({
    mutationFn: (session: SessionInfo) => api.revokeSession(session.id),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ["sessions"] }),
  });

  return (
    <section aria-labelledby="account-heading" className="account">
      <h1 id="account-heading">Account</h1>
      {state.status === "signed-in" && (
        <p>
          Signed in as <strong>{state.user.email}</strong>
        </p>
      )}

      <div className="card">
        <h2>Sessions</h2>
        {sessions.isPending ? (
          <p role="status">Loading sessions…</p>
        ) : sessions.isError ? (
          <ProblemMessage error={sessions.error} />
        ) : (
          <ul className="sessions">
            {sessions.data.map((session) => (
              <li key={session.id}>
                <span>
                  <strong>{device(session.user_agent)}</strong>
                  {session.current && <span className="badge">this device</span>}
                  <br />
                  <small>
                    {session.ip ?? "unknown address"} · last used{" "}
                    {new Date(session.last_used_at).toLocaleString()}
                  </small>
                </span>
                {!session.current && (
                  <button
                    type="button"
                    onClick={() => revoke.mutate(session)}
                    disabled={revoke.isPending}
                    aria-label={`Revoke ${device(session.user_agent)}, last used ${new Date(session.last_used_at).toLocaleString()}`}
                  >
                    Revoke
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
        <ProblemMessage error={revoke.error} />
      </div>

      <ChangePassword
        onChange={async (current, next) => {
          await api.changePassword(current, next);
          // The other sessions have just been revoked.
          await queryClient.invalidateQueries({ queryKey: ["sessions"] });
        }}
      />

      <div className="card">
        <h2>Sign out</h2>
        <p>Ends this session; other devices stay signed in.</p>
        <button type="button" onClick={() => void auth.signOut()}>
          Sign out
        </button>
      </div>

      <DeleteAccount onDelete={(password) => api.deleteAccount(password)} />
    </section>
  );
}

function ChangePassword({ onChange }: { onChange: (current: string, next: string) => Promise<void> }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setDone(false);
    try {
      await onChange(current, next);
      setCurrent("");
      setNext("");
      setDone(true);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  const fieldErrors =
    fieldErrorOf(error, "current_password") ?? fieldErrorOf(error, "new_password");
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="password-heading">
      <h2 id="password-heading">Change password</h2>
      <Field
        label="Current password"
        type="password"
        autoComplete="current-password"
        value={current}
        onChange={(e) => setCurrent(e.target.value)}
        error={fieldErrorOf(error, "current_password")}
      />
      <Field
        label="New password"
        type="password"
        autoComplete="new-password"
        value={next}
        onChange={(e) => setNext(e.target.value)}
        error={fieldErrorOf(error, "new_password")}
      />
      {!fieldErrors && <ProblemMessage error={error} />}
      {done && (
        <p role="status" className="notice">
          Password changed. Your other sessions have been signed out.
        </p>
      )}
      <button type="submit" className="primary" disabled={busy || !current || !next}>
        Change password
      </button>
    </form>
  );
}

function DeleteAccount({ onDelete }: { onDelete: (password: string) => Promise<void> }) {
  const auth = useAuth();
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onDelete(password);
      await auth.signOut();
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  }

  return (
    <form className="card danger" onSubmit={submit} noValidate aria-labelledby="delete-heading">
      <h2 id="delete-heading">Delete account</h2>
      <p>Deletes your account and all your tasks. This cannot be undone.</p>
      <Field
        label="Password"
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        error={fieldErrorOf(error, "password")}
      />
      {!fieldErrorOf(error, "password") && <ProblemMessage error={error} />}
      <button type="submit" className="danger" disabled={busy || !password}>
        Delete my account
      </button>
    </form>
  );
}
