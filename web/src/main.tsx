// The app: one auth client (the session lives in it, in memory), one query cache, and the
// routes. On load the session is restored from the refresh cookie.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createBrowserRouter, RouterProvider } from "react-router";

import { createAuthClient } from "./auth/client";
import { Layout } from "./components/Layout";
import { AccountPage } from "./pages/AccountPage";
import { AuthPage } from "./pages/AuthPage";
import { TasksPage } from "./pages/TasksPage";
import { AuthContext } from "./session/auth-context";
import "./styles.css";

const auth = createAuthClient();
void auth.restore();

const queryClient = new QueryClient({
  defaultOptions: {
    queries: { staleTime: 10_000, retry: 1 },
  },
});
// Another user's data must never outlive the session that fetched it.
auth.subscribe((state) => {
  if (state.status === "signed-out") queryClient.clear();
});

const router = createBrowserRouter([
  { path: "/sign-in", element: <AuthPage mode="sign-in" /> },
  { path: "/sign-up", element: <AuthPage mode="sign-up" /> },
  {
    element: <Layout />,
    children: [
      { path: "/", element: <TasksPage /> },
      { path: "/account", element: <AccountPage /> },
    ],
  },
]);

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <AuthContext.Provider value={auth}>
        <QueryClientProvider client={queryClient}>
          <RouterProvider router={router} />
        </QueryClientProvider>
      </AuthContext.Provider>
    </StrictMode>,
  );
}
