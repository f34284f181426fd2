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

/** The consent a slot asks for; every signup then carries a consent record
 *  (`{text, version, locale, page, at_ms}`). */
export interface LetterboxConsent {
  /** The exact text shown (the checkbox's label). */
  text: string;
  /** Your version id of that text, recorded with every signup. */
  version: string;
  /** The privacy policy: https://…, http://… or a path on the site. */
  privacy_url?: string;
  /** The link's text (default "Privacy policy" in the reader's language). */
  privacy_label?: string;
  /** true (default): an unticked box the reader must tick; false: a statement above the email field, read with the submit button. */
  checkbox?: boolean;
  /** Separate permissions, each optional (Mailchimp's GDPR marketing permissions): each ticked
   *  one is sent as field=value and its wording is the consent record; `text` is their heading. */
  choices?: Array<{ field: string; value: string; text: string }>;
}

/** Options for `Letterbox.mount`; they override the element's inline JSON key by key, and the
 *  element's data-* attributes override them. The same keys as the inline JSON (see README). */
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
  /** The delivery service (default "json", the Letterbox contract). */
  provider?: "json" | "form" | "mailchimp" | "listmonk" | "ghost";
  /** Settings of the `form` provider. */
  form?: {
    action?: string;
    email_field?: string;
    newsletter_field?: string;
    hidden?: Record<string, string>;
    success_texts?: string[];
    confirms_by_email?: boolean;
    key_field?: string;
    key_header?: boolean;
    challenge_field?: string;
    consent_field?: string;
  };
  /** Settings of the `mailchimp` provider. */
  mailchimp?: {
    action: string;
    groups?: Record<string, string>;
    hidden?: Record<string, string>;
    consent_field?: string;
  };
  /** Settings of the `listmonk` provider. */
  listmonk?: { base: string; lists?: Record<string, string>; discover?: boolean };
  /** Settings of the `ghost` provider. */
  ghost?: { site: string; newsletters?: Record<string, string>; labels?: string[] };
  /** Attempts per signup, 1–10 (default 4). */
  attempts?: number;
  /** The least milliseconds from form to submit for a person (default 1000; 0 = no check). */
  min_fill_ms?: number;
  /** What to do with bot-looking submissions (default "drop"). */
  bots?: "drop" | "flag";
  /** Days a signup that could not be sent waits in the browser to be sent later, 0–30
   *  (default 7; 0 = never kept, the reader gets Try again instead). */
  pending_days?: number;
  /** Where anonymous slot statistics go (once per page view, `sendBeacon`); unset = none. */
  stats_endpoint?: string;
  /** How the slot looks: "auto" (default: the page's colour scheme), "light" or "dark",
   *  optionally with "boxed" (a card with its own background), e.g. "dark boxed". */
  theme?: string;
  /** The slot's own heading, shown above the form (and naming its field and button). */
  title?: string;
  /** The level of the slot's headings, 2–6 (default 2); panels' headings sit one below a shown title. */
  heading_level?: number;
  /** A short pitch under the title. */
  intro?: string;
  /** An image above the title (decorative), an http(s) URL or a path on the site. */
  image?: string;
  /** Ask for consent (a box to tick, or a statement). */
  consent?: LetterboxConsent | null;
  /** Fields the reader fills in besides the address (form and mailchimp providers only). */
  fields?: Array<{
    name: string;
    label?: string;
    required?: boolean;
    options?: Array<{ value: string; label?: string }>;
    value?: string;
  }>;
  /** A reader may sign up with no newsletter ticked (default false). */
  choice_optional?: boolean;
  /** "signup" (default) or "goal" (then the keys of `LetterboxGoalOptions` apply). */
  kind?: "signup" | "goal";
  /** "Join 48,000 readers" above the form: `true` reads the reference receiver's
   *  `/api/count/<first newsletter>` next to the endpoint, a string is any `{"count": n}` URL
   *  (default false). */
  social_proof?: boolean | string;
  /** Seconds this browser reuses a count it read, 0–86400 (default 300). */
  count_cache_seconds?: number;
}

/** A goal slot (`kind: "goal"`): "12,345 of 20,000 members", a progress bar and a link. */
export interface LetterboxGoalOptions {
  kind: "goal";
  /** The number to reach, 1–1,000,000,000. */
  goal: number;
  /** The count, when there is no `count_url` or it gives none. */
  count?: number;
  /** Where the count is read: an answer `{"count": n}` (the receiver's `/api/count/<newsletter>`). */
  count_url?: string;
  /** Seconds this browser reuses a count it read, 0–86400 (default 300). */
  count_cache_seconds?: number;
  /** The heading (default "Help us reach {goal} {unit}"); `{goal}` and `{unit}` are filled in. */
  label?: string;
  /** The call to action, a link. */
  cta?: { text: string; url: string };
  lang?: "en" | "uk" | string;
  /** Overrides of built-in texts by name, e.g. `{ goal_unit: "supporter|supporters" }`. */
  texts?: Record<string, string>;
  /** As a signup slot's `theme`. */
  theme?: string;
}

/** What a challenge provider is called with, once per request that can carry a token. */
export interface LetterboxChallengeRequest {
  /** The slot sending the signup (its id, or its index). */
  slot: string;
  /** The delivery provider ("json", or "form" with `challenge_field`). */
  provider: string;
}

/** Gives a Turnstile / hCaptcha / proof-of-work token (or a promise of one) for one request;
 *  `null` or `undefined` sends none. A throw, a rejection, a non-string or no answer within
 *  60 s sends nothing: after the reader's submit they see a failure with Try again; a signup
 *  kept in the browser stays kept. */
export type LetterboxChallengeProvider = (
  request: LetterboxChallengeRequest,
) => string | null | undefined | Promise<string | null | undefined>;

export interface LetterboxApi {
  /** The bundle's version, e.g. "0.1.0". */
  readonly version: string;
  /** Resolves (with this object) once the slots present at load are mounted. */
  readonly ready: Promise<LetterboxApi>;
  /** Mounts a widget into `element`; false if one is already there. Throws a TypeError for a
   *  non-element or options that are not plain JSON data. */
  mount(element: HTMLElement, options?: LetterboxOptions | LetterboxGoalOptions): boolean;
  /** Removes the widget from `element` and releases its resources; false if there was none. */
  unmount(element: HTMLElement): boolean;
  /** Forgets the signups this browser remembers, here and in other tabs: every slot offers its
   *  newsletters again. */
  forget(): void;
  /** Registers the page's challenge provider (replacing any before); `null` removes it. Throws
   *  a TypeError for anything that is not a function. */
  challenge(provider: LetterboxChallengeProvider | null): void;
}

/** The `detail` of every `letterbox:*` event. */
export interface LetterboxEventDetail {
  /** The host element's id, or its index among the page's slots. */
  slot: string;
  /** The newsletter ids concerned. */
  newsletters: string[];
  /** success: "pending" | "subscribed" | "already"; error: "invalid" | "network" | "timeout" | "maybe_sent" |
   *  "server" | "rate_limited" | "rejected" | "spam" | "challenge" | "configuration" | "queued";
   *  suggestion: "shown" | "accepted". */
  outcome?: string;
  /** For "invalid": the fields in error. */
  fields?: ("newsletters" | "consent" | "fields" | "email")[];
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
    /** Dispatched once when `window.Letterbox` is installed, before any slot mounts. */
    "letterbox:loaded": CustomEvent<LetterboxApi>;
    "letterbox:ready": CustomEvent<LetterboxEventDetail>;
    "letterbox:submit": CustomEvent<LetterboxEventDetail>;
    "letterbox:success": CustomEvent<LetterboxEventDetail>;
    "letterbox:error": CustomEvent<LetterboxEventDetail>;
    "letterbox:suggestion": CustomEvent<LetterboxEventDetail>;
  }
}
