import type { JobDefinition } from "../contracts/index.js";

/** Jobs run by another part beside the runner (see `Runner.attach`). */
export interface AttachedJobs {
  readonly jobs: JobDefinition[];
  nextFireOf(job: string): Date | null;
  readonly inFlight: number;
  stop(): Promise<void>;
}

/** The parts attached to one runner: their jobs, runs and next fires are the runner's too. */
export class AttachedParts {
  private parts: AttachedJobs[] = [];

  /** Adds a part; returns a function that detaches it again. */
  add(part: AttachedJobs): () => void {
    this.parts.push(part);
    return () => {
      this.parts = this.parts.filter((p) => p !== part);
    };
  }

  /** `own` followed by every part's jobs. */
  jobsAfter(own: JobDefinition[]): JobDefinition[] {
    return this.parts.length === 0 ? own : [...own, ...this.parts.flatMap((part) => part.jobs)];
  }

  get inFlight(): number {
    return this.parts.reduce((n, part) => n + part.inFlight, 0);
  }

  /** The next fire of a part's job; undefined when no part has that job. */
  nextFireOf(job: string): Date | null | undefined {
    for (const part of this.parts) if (part.jobs.some((j) => j.name === job)) return part.nextFireOf(job);
    return undefined;
  }

  async stop(): Promise<void> {
    await Promise.all(this.parts.map((part) => part.stop()));
  }
}
