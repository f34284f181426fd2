// TypeScript declarations for Letterbox's page API (`window.Letterbox`) and its host events.
// Shipped in dist/ beside letterbox.js.

/** One newsletter a slot offers. */
export interface LetterboxNewsletter {
  id: string;
  name: string;
  description?: string;
  frequency?: string;
  /** Pre-selected; off unless set. */
  checked?: boolean;
}

/** Options for `Letterbox.mount`; they override the element's inline JSON key by key, and the
 *  element's data-* attributes override them. */
export interface LetterboxOptions {
  endpoint?: string;
  newsletters?: LetterboxNewsletter[];
  lang?: "en" | "uk" | string;
  /** Overrides of built-in texts by name, e.g. `{ submit: "Sign up" }`. */
  texts?: Record<string, string>;
  /** Include the reader's address in `letterbox:*` event details (off by default). */
  events_include_email?: boolean;
  /** Days this browser remembers a signup so no slot asks again (default 30; 0 = never). */
  remember_days?: number;
}

export interface LetterboxApi {
  /** The bundle's version, e.g. "0.1.0". */
  readonly version: string;
  /** Resolves (with this object) once the slots present at load are mounted. */
  readonly ready: Promise<LetterboxApi>;
  /** Mounts a widget into `element`; false if one is already there. Throws a TypeError for a
   *  non-element or options that are not plain JSON data. */
  mount(element: HTMLElement, options?: LetterboxOptions): boolean;
  /** Removes the widget from `element` and releases its resources; false if there was none. */
  unmount(element: HTMLElement): boolean;
  /** Forgets the signups this browser remembers, here and in other tabs: every slot offers its
   *  newsletters again. */
  forget(): void;
}

/** The `detail` of every `letterbox:*` event. */
export interface LetterboxEventDetail {
  /** The host element's id, or its index among the page's slots. */
  slot: string;
  /** The newsletter ids concerned. */
  newsletters: string[];
  /** success: "pending" | "subscribed" | "already"; error: "invalid" | "network" | "timeout" |
   *  "server" | "rate_limited" | "rejected"; suggestion: "shown" | "accepted". */
  outcome?: string;
  /** For "invalid": the fields in error. */
  fields?: ("email" | "newsletters")[];
  /** For suggestions: the suggested domain (never the address). */
  domain?: string;
  /** Only with `events_include_email: true`. */
  email?: string;
}

declare global {
  interface Window {
    Letterbox: LetterboxApi;
  }
  interface HTMLElementEventMap {
    "letterbox:ready": CustomEvent<LetterboxEventDetail>;
    "letterbox:submit": CustomEvent<LetterboxEventDetail>;
    "letterbox:success": CustomEvent<LetterboxEventDetail>;
    "letterbox:error": CustomEvent<LetterboxEventDetail>;
    "letterbox:suggestion": CustomEvent<LetterboxEventDetail>;
  }
  interface DocumentEventMap {
    "letterbox:ready": CustomEvent<LetterboxEventDetail>;
    "letterbox:submit": CustomEvent<LetterboxEventDetail>;
    "letterbox:success": CustomEvent<LetterboxEventDetail>;
    "letterbox:error": CustomEvent<LetterboxEventDetail>;
    "letterbox:suggestion": CustomEvent<LetterboxEventDetail>;
  }
}
