// The signed-in frame: a header with the app's two pages and sign-out. A signed-out visitor
// is sent to sign-in, keeping the page they asked for (and, if the session ended, why).
import { Navigate, NavLink, Outlet, useLocation } from "react-router";

import { useAuth, useAuthState } from "../session/auth-context";

export function Layout() {
  const auth = useAuth();
  const state = useAuthState();
  const location = useLocation();

  if (state.status === "restoring") {
    return (
      <p className="loading" role="status">
        Loading…
      </p>
    );
  }
  if (state.status === "signed-out") {
    return <Navigate to="/sign-in" replace state={{ from: location.pathname + location.search }} />;
  }
  return (
    <>
      <header className="app-header">
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <span className="brand">Taskgate</span>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Tasks
          </NavLink>
          <NavLink to="/account">Account</NavLink>
        </nav>
        <span className="who">{state.user.name ?? state.user.email}</span>
        <button type="button" onClick={() => void auth.signOut()}>
          Sign out
        </button>
      </header>
      {/* Keyed by user: another user signing in (in another tab) never sees this one's page. */}
      <main id="main" key={state.user.id}>
        <Outlet />
      </main>
    </>
  );
}
