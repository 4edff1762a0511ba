// What a failed request tells the user: 429 counts down its Retry-After, 503 says to try again,
// and anything else shows the problem's own words.
import { useEffect, useState } from "react";

import { ApiProblem } from "../auth/problem";

export function problemText(error: unknown): string {
  if (error instanceof ApiProblem) {
    // 503 from a service; 502 and 504 from the proxy in front of one that is down.
    if ([502, 503, 504].includes(error.status)) {
      return "The service is unavailable right now. Nothing you typed is lost: please try again.";
    }
    return error.detail ?? error.title;
  }
  if (error instanceof TypeError) return "Cannot reach the server. Check your connection.";
  return "Something went wrong. Please try again.";
}

// Each error gets its own countdown (a new 429 starts again from its own Retry-After).
const ids = new WeakMap<object, number>();
let nextId = 0;
function idOf(error: object): number {
  let id = ids.get(error);
  if (id === undefined) {
    nextId += 1;
    id = nextId;
    ids.set(error, id);
  }
  return id;
}

function Countdown({ secs }: { secs: number }) {
  const [left, setLeft] = useState(secs);
  useEffect(() => {
    const timer = setInterval(() => setLeft((n) => Math.max(0, n - 1)), 1000);
    return () => clearInterval(timer);
  }, []);
  // The ticking number is for the eyes; a screen reader hears the start and the end only.
  return (
    <p className="alert">
      <span aria-hidden="true">
        {left > 0 ? `Too many attempts. Try again in ${left} s.` : "You can try again now."}
      </span>
      <span className="visually-hidden" role="status">
        {left > 0 ? `Too many attempts. Try again in ${secs} seconds.` : "You can try again now."}
      </span>
    </p>
  );
}

export function ProblemMessage({ error }: { error: unknown }) {
  if (!error) return null;
  if (error instanceof ApiProblem && error.status === 429 && error.retryAfterSecs !== undefined) {
    return <Countdown key={idOf(error)} secs={error.retryAfterSecs} />;
  }
  return (
    <p role="alert" className="alert">
      {problemText(error)}
    </p>
  );
}
