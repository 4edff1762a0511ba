// The app and both APIs on one origin (http://127.0.0.1:8080): Vite serves the app and
// forwards the API paths to the services `make run` starts, so the browser never crosses
// origins (no CORS, and the refresh cookie is first-party). TASKGATE_AUTH_URL and
// TASKGATE_TASKS_URL point elsewhere (the end-to-end tests start services on other ports).
import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

const auth = process.env.TASKGATE_AUTH_URL ?? "http://127.0.0.1:8081";
const tasks = process.env.TASKGATE_TASKS_URL ?? "http://127.0.0.1:8082";
const port = Number(process.env.TASKGATE_WEB_PORT ?? 8080);

// Keeps the browser's Origin as it is: the auth-service checks it on cookie-mode requests,
// and it must see the page's origin (listed in AUTH__HTTP__ALLOWED_ORIGINS), not its own.
const proxy = (target: string) => ({ target, changeOrigin: false });

const routes = {
  "/api/auth": proxy(auth),
  "/oauth": proxy(auth),
  "/.well-known": proxy(auth),
  "/api/tasks": proxy(tasks),
};

export default defineConfig({
  plugins: [react()],
  // The app is one chunk on purpose (no route is worth a second round trip); its budget is
  // 150 KiB gzipped (docs/web.md, "Numbers"), not Vite's 500 kB raw default warning.
  build: { chunkSizeWarningLimit: 600 },
  // `vite` (make run) serves the sources; `vite preview` (the end-to-end tests) the build.
  server: { host: "127.0.0.1", port, strictPort: true, proxy: routes },
  preview: { host: "127.0.0.1", port, strictPort: true, proxy: routes },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
