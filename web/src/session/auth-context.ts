// The app's one auth client, and the hooks that read it.
import { createContext, useContext, useSyncExternalStore } from "react";

import type { AuthClient, AuthState } from "../auth/client";

export const AuthContext = createContext<AuthClient | null>(null);

export function useAuth(): AuthClient {
  const auth = useContext(AuthContext);
  if (!auth) {
    throw new Error("useAuth outside <AuthContext.Provider>");
  }
  return auth;
}

/** The session's state; re-renders when it changes (in this tab or, by broadcast, another). */
export function useAuthState(): AuthState {
  const auth = useAuth();
  return useSyncExternalStore(auth.subscribe, auth.getState);
}
