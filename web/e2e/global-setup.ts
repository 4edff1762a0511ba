// Starts the real system once for every end-to-end test file (see services.ts), and a small
// control server on loopback through which a test stops and starts the tasks-service.
import { createServer, type Server } from "node:http";

import type { TestProject } from "vitest/node";

import { startSystem, type System } from "./services";

declare module "vitest" {
  export interface ProvidedContext {
    appUrl: string;
    controlUrl: string;
  }
}

let system: System | undefined;

export default async function setup(project: TestProject) {
  const binDir = process.env.TASKGATE_BIN_DIR;
  if (!binDir) {
    throw new Error("TASKGATE_BIN_DIR must name the folder with the auth-service and tasks-service binaries");
  }
  // The shortest access-token lifetime the auth-service allows: a token really expires
  // while a test works.
  const running = await startSystem(binDir, 60);
  system = running;
  const control: Server = createServer((req, res) => {
    const action =
      req.url === "/tasks-service/stop"
        ? running.stopTasksService()
        : req.url === "/tasks-service/start"
          ? running.startTasksService()
          : Promise.reject(new Error(`unknown control ${req.url}`));
    action.then(
      () => res.writeHead(204).end(),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve) => control.listen(0, "127.0.0.1", resolve));
  const address = control.address();
  const port = typeof address === "object" && address ? address.port : 0;
  project.provide("appUrl", running.appUrl);
  project.provide("controlUrl", `http://127.0.0.1:${port}`);
  return async () => {
    control.close();
    await system?.stop();
  };
}
