// Starts the real system once for every end-to-end test file (see services.ts).
import type { TestProject } from "vitest/node";

import { startSystem, type System } from "./services";

declare module "vitest" {
  export interface ProvidedContext {
    appUrl: string;
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
  system = await startSystem(binDir, 60);
  project.provide("appUrl", system.appUrl);
  return async () => {
    await system?.stop();
  };
}
