/**
 * The English catalogue: every string a person reads (public pages, e-mails, API error messages,
 * the admin dashboard), grouped by area. It is the reference: `Catalogue` (../index.ts) is
 * derived from it, so every other language must have exactly these keys, with a string where
 * this has a string and a function of the same parameters where this has a function.
 *
 * Parameterised entries are functions. Their values are inserted verbatim: a caller building
 * HTML passes already-escaped text (or markup such as `<strong>…</strong>`), never raw user text.
 * Numbers are passed as numbers and formatted here (`formatNumber`), so each language chooses
 * its own digits and separators.
 *
 * The texts started as the English strings of src/views, src/routes/errors.ts and the domain's
 * notifications, validation and intake messages; where those are still literals, keep both in
 * step until the views and routes read from here.
 * (Over 300 lines because it is data: one entry per string a person reads, grouped by area.)
 */
import { formatBytes, formatNumber } from "../format";

export const en = {
  common: {
    siteName: "Vehicle ads",
    /** The document title of a public page: the page's own title, then the site. */
    pageTitle: (title: string) => `${title} · Vehicle ads`,
    skipToContent: "Skip to content",
    goHome: "Go to the home page",
    adId: "Ad ID",
    sending: "Sending…",
    nav: {
      postAd: "Post an ad",
      browse: "Vehicles for sale",
      checkAd: "Check an ad",
      api: "API",
    },
    language: {
      label: "Language",
      // Each language is named in itself, in every catalogue.
      fa: "فارسی",
      en: "English",
    },
  },

  post: {
    pageTitle: "Sell your vehicle",
    heading: "Sell your vehicle",
    intro: "Post an ad with one photo. We check automatically that the photo shows a vehicle, usually within seconds, and e-mail you the result.",
    formTitle: "Post an ad",
    descriptionLabel: "Description",
    descriptionHint: (max: number) => `Make, model, year, mileage, condition, price and how to reach you. Up to ${formatNumber("en", max)} characters.`,
    emailLabel: "Your e-mail",
    emailHint: "We e-mail you the outcome of the review. It is never shown on the ad.",
    photoLabel: "Photo of the vehicle",
    photoHint: (maxBytes: number) => `One photo: JPEG, PNG, WebP or GIF, up to ${formatBytes("en", maxBytes)}. Ads are published only if the photo shows a vehicle.`,
    submit: "Post the ad",
    lookup: {
      title: "Check an ad",
      label: "Ad ID",
      hint: "The ID you got when you posted the ad (also in our e-mail).",
      placeholder: "e.g. 0190a5c2-…",
      submit: "Look up",
    },
    success: {
      heading: "Thank you!",
      checking: "We are checking the photo now and will e-mail you the outcome.",
      follow: "Follow your ad",
      another: "Post another ad",
      /** The private manage link, shown once after posting (also in the e-mails). */
      manageLead: "Keep this private link: with it you can take the ad down later (it is in your e-mail too).",
    },
    failure: {
      lead: "Your ad was not posted.",
      back: "Back to the form",
    },
    result: {
      registeredTitle: "Ad registered",
      registeredHeading: "Ad registered",
      notPostedTitle: "Ad not posted",
      notPostedHeading: "Your ad was not posted",
    },
  },

  status: {
    /** The API's `message` for a new ad (201). */
    registered: (id: string) => `Your ad was registered with ID ${id}`,
    /** The API's `message` for each state of an ad. */
    pending: "Your ad is in the review queue",
    rejected: "Your ad was not approved",
    accepted: "Your ad was approved",
    badge: {
      pending: "In review",
      rejected: "Not approved",
    },
    pendingText: "We are checking the photo. This usually takes a few seconds: this page updates by itself, and we will also e-mail you the outcome.",
    rejectedText: "Our automatic check did not find a vehicle in the photo, so the ad is not published. Only vehicle ads are accepted.",
    postNew: "Post a new ad",
  },

  ad: {
    heading: "Vehicle for sale",
    pageTitle: (category: string) => `Vehicle for sale: ${category}`,
    photoAlt: (category: string) => `Photo of the vehicle (${category})`,
    descriptionHeading: "Description",
    facts: {
      category: "Category",
      posted: "Posted",
      approved: "Approved",
      adId: "Ad ID",
    },
    notFound: {
      title: "Ad not found",
      heading: "We could not find that ad",
      /** Followed by an example id, shown as code. */
      checkId: "Check the ID: it is in the confirmation you saw after posting and in our e-mail, and looks like this:",
    },
    error: {
      title: "Something went wrong",
      heading: "Something went wrong",
    },
  },

  email: {
    acceptedSubject: (category: string) => `Your ad was accepted (${category})`,
    /** The accepted e-mail's first sentence (for HTML, pass escaped text or markup). */
    acceptedLead: (quote: string, category: string) => `Good news: your ad “${quote}” was accepted in the category “${category}”.`,
    seeYourAd: "See your ad",
    rejectedSubject: "Your ad was not approved",
    /** The rejected e-mail's first sentence and reason (for HTML, pass escaped text). */
    rejectedLead: (quote: string, reason: string) => `Sorry: your ad “${quote}” was not approved. ${reason}`,
    /** The reason when the automatic rule rejected the ad. */
    defaultRejectReason: "We could not find a vehicle in the photo.",
    /** The reason an operator's rejection defaults to. */
    operatorRejectReason: "The photo does not show a vehicle.",
    adIdLabel: (id: string) => `Ad ID: ${id}`,
    /** When the ad was submitted, as a date in the reader's calendar. */
    submittedOn: (date: string) => `Submitted on ${date}`,
    /** The accepted e-mail's private link: take the ad down when the vehicle is sold. */
    manageAccepted: "Sold it? Take the ad down here (this link is private: do not share it):",
    /** The rejected e-mail's private link: one appeal to a person. */
    manageRejected: "Think we got it wrong? Ask a person to look again (this link is private: do not share it):",
  },

  errors: {
    rateLimited: "Too many submissions; try again later",
    notFound: "Not found",
    adNotFound: "No ad with this id",
    acceptedAdNotFound: "No accepted ad with this id",
    badRequest: "The request body could not be parsed; send multipart/form-data",
    badCookie: "Bad cookie",
    tooLarge: "The request body is too large",
    internal: "Internal error",
    /** A dependency is down (503); `dependency` is one of `dependencies` below, translated. */
    unavailable: (dependency: string) => `The ${dependency} is unavailable; try again shortly`,
    dependencies: {
      database: "database",
      broker: "broker",
      storage: "storage",
      tagger: "tagger",
      mailer: "mailer",
    },
    /** A request field failed the schema (422); `field` is one of `fields` below, translated. */
    invalidField: (field: string) => `${field} is missing or invalid`,
    fields: {
      description: "description",
      email: "email",
      image: "image",
      request: "request",
    },
    descriptionRequired: "description is required",
    descriptionEmpty: "description must not be empty",
    descriptionTooLong: (max: number) => `description must be at most ${max} characters`,
    descriptionNul: "description must not contain NUL characters",
    emailRequired: "email is required",
    emailInvalid: "email must be one valid e-mail address",
    imageRequired: "image is required",
    imageEmpty: "image must not be empty",
    imageTooLarge: (maxBytes: number) => `image must be at most ${maxBytes} bytes`,
    unsupportedImage: "image must be a JPEG, PNG, WebP or GIF file",
    /** The image's container is broken (422); `problem` is one of `imageProblems`. */
    invalidImage: (problem: string) => `image is not a valid picture: ${problem}`,
    imageProblems: {
      truncated: "the file ends too early",
      malformed: "the file is damaged",
      trailingData: "the file has data after the image",
      tooManyPixels: (maxPixels: number) => `image has more than ${maxPixels} pixels`,
      unsupported: "not a JPEG, PNG, GIF or WebP image",
    },
    invalidCategory: "category must be 1-60 letters, digits or simple punctuation",
    invalidReason: (max: number) => `reason must be at most ${max} characters`,
  },

  admin: {
    brand: "ad-service",
    brandSuffix: "admin",
    /** The document title of an admin page. */
    pageTitle: (title: string) => `${title} · ad-service admin`,
    nav: {
      label: "Sections",
      queue: "Queue",
      overview: "Overview",
      outbox: "Outbox",
      operators: "Operators",
      account: "My account",
    },
    signOut: "Sign out",
    login: {
      title: "Sign in",
      heading: "ad-service admin",
      name: "Name",
      nameHint: "Your operator name. Leave it empty to sign in as admin with ADMIN_PASSWORD.",
      password: "Password",
      submit: "Sign in",
      signedOut: "You are signed out.",
      throttled: "Too many attempts; wait a minute and try again.",
      wrongPassword: "Wrong name or password.",
      signInFirst: "Sign in first",
      badCsrf: "Missing or wrong CSRF token",
      crossSite: "Cross-site request refused",
    },
    /** The queue's tabs (one per state an operator filters by). */
    tabs: {
      pending: "Pending",
      review: "Needs review",
      accepted: "Accepted",
      rejected: "Rejected",
      failed: "Failed",
    },
    /** An ad's state as a badge. */
    states: {
      pending: "pending",
      review: "review",
      accepted: "accepted",
      rejected: "rejected",
      failed: "failed",
      withdrawn: "withdrawn",
    },
    /** An e-mail's delivery status as a badge. */
    emailStatus: {
      queued: "queued",
      sending: "sending",
      sent: "sent",
      failed: "failed",
      superseded: "superseded",
    },
    emailKinds: {
      accepted: "accepted",
      rejected: "rejected",
    },
    queue: {
      appealed: "appeal",
      possibleCopy: "possible copy",
      heading: "Ads",
      searchLabel: "Search by id, e-mail or text",
      searchPlaceholder: "Search id, e-mail or text",
      search: "Search",
      statesLabel: "States",
      withSelected: "With selected:",
      approve: "Approve",
      reprocess: "Reprocess",
      reject: "Reject",
      rejectReasonLabel: "Reason for rejection",
      rejectReasonPlaceholder: "Reason (for reject)",
      empty: "Nothing here.",
      emptySearch: "Nothing here for this search.",
      selectAll: "Select all on this page",
      selectOne: "Select this ad",
      notTagged: "not tagged",
      pagesLabel: "Pages",
      newest: "← Newest",
      older: "Older →",
      columns: {
        photo: "Photo",
        ad: "Ad",
        topTags: "Top tags",
        age: "Age",
        attempts: "Attempts",
      },
    },
    detail: {
      appealHeading: "The poster appealed the rejection",
      possibleCopyHeading: "Possible copy of an earlier ad's photo",
      sameAsHeading: "The same photo as an earlier ad of this poster",
      thisAd: "This ad",
      earlierAd: "Earlier ad",
      back: "← Back to the list",
      heading: "Ad",
      photoAlt: "The ad's photo",
      factsHeading: "Ad",
      description: "Description",
      poster: "Poster",
      submitted: "Submitted",
      decision: "Decision",
      /** "accepted as <category> by <actor> <time>" (for HTML, pass escaped text or markup). */
      decidedAs: (category: string) => `as ${category}`,
      decidedBy: (actor: string) => `by ${actor}`,
      notDecided: "not decided yet",
      heldForHuman: "held for a human: the vehicle tag is in the review band",
      attempts: "Attempts",
      lastError: "Last error",
      actions: "Actions",
      category: "Category",
      approve: "Approve",
      rejectReasonLabel: "Reason (sent to the poster)",
      rejectReasonPlaceholder: "The photo does not show a vehicle.",
      reprocessHint: "Tag the photo again and let the rule decide.",
      reprocess: "Reprocess",
      reject: "Reject",
      tags: "Tags",
      /** Explains the threshold line (for HTML, pass the tag escaped, e.g. in `<strong>`). */
      thresholdNote: (threshold: number, tag: string) => `The line marks the acceptance threshold (${formatNumber("en", threshold)}) for the ${tag} tag.`,
      notTagged: "Not tagged yet.",
      emails: "E-mails",
      noEmail: "No e-mail yet.",
      emailColumns: {
        kind: "Kind",
        subject: "Subject",
        status: "Status",
        providerId: "Provider id",
        attempts: "Attempts",
        sent: "Sent",
        actions: "Actions",
      },
      history: "History",
      historyNew: "new",
      processingErrors: "Processing errors",
      transient: "transient",
      permanent: "permanent",
      resend: "Resend",
    },
    flash: {
      approvedAs: (category: string) => `Approved as “${category}”; the poster will be e-mailed.`,
      alreadyApproved: "Already approved as that.",
      rejected: "Rejected; the poster will be e-mailed.",
      alreadyRejected: "Already rejected.",
      sentBack: "Sent back for tagging.",
      selectFirst: "Select at least one ad first.",
      unknownAction: "Unknown action.",
      bulkApproved: (n: number, total: number) => `Approved ${formatNumber("en", n)} of ${formatNumber("en", total)} selected ads.`,
      bulkRejected: (n: number, total: number) => `Rejected ${formatNumber("en", n)} of ${formatNumber("en", total)} selected ads.`,
      bulkRequeued: (n: number, total: number) => `Re-queued ${formatNumber("en", n)} of ${formatNumber("en", total)} selected ads.`,
      emailRequeued: "E-mail queued again; it goes out shortly.",
      emailNotResendable: "This e-mail cannot be re-sent: it is no longer failed, or a newer e-mail replaced it.",
      notFound: "Not found",
    },
    outbox: {
      heading: "E-mail outbox",
      statusLabel: "Status",
      all: "all",
      empty: "No e-mails.",
      older: "Older →",
      columns: {
        when: "When",
        to: "To",
        subject: "Subject",
        status: "Status",
        providerId: "Provider id",
        ad: "Ad",
        actions: "Actions",
      },
    },
    overview: {
      heading: "Overview",
      nowLabel: "Now",
      inQueue: "In the queue",
      deadLettered: "Dead-lettered",
      latencyHeading: "Submit → automatic decision, last 24 h",
      median: "median",
      p95: "p95",
      adsCount: (n: number) => `${formatNumber("en", n)} ads`,
      outcomesHeading: "Outcomes per day",
      outcomesChartTitle: (days: number) => `Ads decided per day, accepted and rejected, over the last ${formatNumber("en", days)} days`,
      legend: {
        accepted: "accepted",
        rejected: "rejected",
        submitted: "submitted",
      },
      providerErrors: "Provider errors",
      errorsChartTitle: "Provider errors per hour over the last 24 hours",
      /** A bar's tooltip: `hour` is "HH" (UTC). */
      errorsAt: (hour: string, n: number) => `${hour}:00 UTC: ${formatNumber("en", n)} errors`,
      hourTick: (hour: string) => `${hour}h`,
      noProviderErrors: "No provider errors in the last 24 hours.",
    },
    /** Who changed an ad, when it was not an operator (operators are shown by their name). */
    actors: {
      auto: "automatic check",
      poster: "poster",
      worker: "worker",
      /** History entries from before there were operator accounts. */
      operator: "an operator",
    },
    /**
     * The reasons the system writes into an ad's history (stored in English), as the dashboard
     * shows them; a reason an operator typed is shown as it was typed. Tags and categories come
     * in as HTML (escaped); numbers as numbers.
     */
    reasons: {
      submitted: "submitted",
      approvedAs: (category: string) => `approved as “${category}”`,
      sentBack: "sent back for tagging",
      failedEmailResent: "failed e-mail re-sent",
      emailResent: "e-mail re-sent by an operator",
      ruleAccepted: (tag: string, confidence: number, min: number) =>
        `${tag} ${formatNumber("en", confidence, { minimumFractionDigits: 1, maximumFractionDigits: 1 })} ≥ ${formatNumber("en", min)}`,
      ruleNoTag: (tag: string) => `no ${tag} tag`,
      ruleReview: (tag: string, confidence: number, low: number, min: number) =>
        `${tag} ${formatNumber("en", confidence, { minimumFractionDigits: 1, maximumFractionDigits: 1 })} in the review band [${formatNumber("en", low)}, ${formatNumber("en", min)})`,
      ruleRejected: (tag: string, confidence: number, min: number) =>
        `${tag} ${formatNumber("en", confidence, { minimumFractionDigits: 1, maximumFractionDigits: 1 })} < ${formatNumber("en", min)}`,
    },
    /** The systems a processing error came from. */
    providers: {
      database: "database",
      broker: "broker",
      storage: "storage",
      tagger: "tagger",
      mailer: "mailer",
      worker: "worker",
      internal: "internal",
    },
    /** The operators page (admins only). */
    operators: {
      heading: "Operators",
      forbidden: "Only administrators can manage operators.",
      columns: {
        name: "Name",
        displayName: "Display name",
        role: "Role",
        language: "Language",
        status: "Status",
        lastSignIn: "Last sign-in",
        actions: "Actions",
      },
      roles: {
        admin: "admin",
        operator: "operator",
      },
      /** Languages named in the page's language (a language switch names each in itself). */
      languages: {
        fa: "Persian",
        en: "English",
      },
      status: {
        active: "active",
        disabled: "disabled",
      },
      never: "never",
      you: "you",
      addHeading: "Add an operator",
      name: "Name",
      nameHint: "Used to sign in: letters or digits (then also . _ -), up to 40.",
      displayName: "Display name (optional)",
      role: "Role",
      language: "Language",
      add: "Add",
      disable: "Disable",
      enable: "Enable",
      resetPassword: "Reset password",
      changeRole: "Change role",
      /** Before a password shown once (for HTML, pass the name escaped). */
      passwordFor: (name: string) => `The password of ${name}, shown only now:`,
      passwordNote: "Copy it now and hand it over safely: it cannot be shown again.",
      added: (name: string) => `Operator ${name} added.`,
      disabled: (name: string) => `${name} is disabled; their sessions have ended.`,
      enabled: (name: string) => `${name} can sign in again.`,
      roleChanged: (name: string, role: string) => `${name} is now ${role}.`,
      passwordReset: (name: string) => `New password set for ${name}; their sessions have ended.`,
      unchanged: "Nothing changed.",
      errors: {
        invalidName: "A name is 1 to 40 letters or digits (then also . _ -), starting with a letter or digit.",
        reservedName: "This name is reserved for the system; choose another.",
        duplicate: "An operator with this name already exists.",
        unknown: "No such operator.",
        lastAdmin: "The last active admin cannot be disabled or lose the admin role.",
        self: "You cannot do this to your own account.",
        badRole: "Choose a role: admin or operator.",
        badLang: "Choose a language.",
        weakPassword: "A password must be 12 to 200 characters.",
      },
    },
    /** The signed-in operator's own page. */
    account: {
      heading: "My account",
      name: "Name",
      role: "Role",
      displayName: "Display name",
      language: "Language of the dashboard",
      save: "Save",
      saved: "Saved.",
    },
    /** "3 min ago" style ages. */
    age: {
      seconds: (n: number) => `${formatNumber("en", n)}s ago`,
      minutes: (n: number) => `${formatNumber("en", n)} min ago`,
      hours: (n: number) => `${formatNumber("en", n)} h ago`,
      days: (n: number) => `${formatNumber("en", n)} d ago`,
    },
    /** Durations (the caller picks the unit; seconds and minutes keep one decimal). */
    duration: {
      ms: (n: number) => `${formatNumber("en", n, { maximumFractionDigits: 0 })} ms`,
      seconds: (n: number) => `${formatNumber("en", n, { minimumFractionDigits: 1, maximumFractionDigits: 1 })} s`,
      minutes: (n: number) => `${formatNumber("en", n, { minimumFractionDigits: 1, maximumFractionDigits: 1 })} min`,
    },
  },

  /**
   * Vehicle categories as the taggers name them (Imagga's English tags and the offline
   * detector's COCO classes), lower case. `categoryLabel` looks a tag up here and shows an
   * unknown one as it is. English shows the tag itself.
   */
  browse: {
    title: "Vehicles for sale",
    heading: "Vehicles for sale",
    search: "Search",
    category: "Category",
    allCategories: "All categories",
    apply: "Show",
    empty: "No ads yet.",
    noMatch: "No ad matches this search.",
    more: "More ads",
    badCursor: "cursor is not one this service gave out",
  },

  manage: {
    title: "Your ad",
    heading: "Your ad",
    privateNote: "This page is private: anyone with its link can take your ad down. Do not share it.",
    stateLabel: "Status:",
    states: {
      pending: "being checked",
      review: "waiting for a moderator",
      accepted: "published",
      rejected: "not approved",
      failed: "being checked",
      withdrawn: "withdrawn",
    },
    categoryLabel: "Category:",
    viewPublic: "See the public page",
    historyHeading: "What happened",
    event: (state: string, by: string) => `${state} (${by})`,
    by: { poster: "by you", auto: "automatic check", moderator: "by a moderator" },
    appealHeading: "Ask for a second look",
    appealLead: "If the photo does show a vehicle, tell us in a sentence or two; a moderator will look again and e-mail you. You can ask once.",
    appealNote: "Your note",
    appealButton: "Ask a moderator",
    withdrawHeading: "Take the ad down",
    withdrawLead: "Sold it, or changed your mind? The ad disappears at once and its photo is deleted. This cannot be undone.",
    withdrawConfirm: "Yes, take it down and delete the photo",
    withdrawButton: "Take the ad down",
    confirmFirst: "Tick the box to confirm first.",
    noteInvalid: "Write a note of at most 1000 characters.",
    formRefused: "This form has expired or came from another site; open the link from your e-mail again.",
    done: {
      withdrawn: "Your ad was taken down and its photo deleted.",
      alreadyWithdrawn: "This ad was already taken down.",
      appealed: "Thank you: a moderator will look at your ad again and e-mail you the outcome.",
      alreadyAppealed: "You already asked for a second look at this ad.",
      notRejected: "Only a rejected ad can be appealed.",
    },
  },

  categories: {
    vehicle: "vehicle",
    "motor vehicle": "motor vehicle",
    transportation: "transportation",
    car: "car",
    auto: "auto",
    automobile: "automobile",
    "sports car": "sports car",
    "race car": "race car",
    racer: "racer",
    convertible: "convertible",
    sedan: "sedan",
    coupe: "coupe",
    hatchback: "hatchback",
    suv: "SUV",
    "station wagon": "station wagon",
    "beach wagon": "beach wagon",
    jeep: "jeep",
    limousine: "limousine",
    cab: "cab",
    taxi: "taxi",
    "police car": "police car",
    ambulance: "ambulance",
    van: "van",
    minivan: "minivan",
    pickup: "pickup",
    "pickup truck": "pickup truck",
    truck: "truck",
    "trailer truck": "trailer truck",
    "tow truck": "tow truck",
    "garbage truck": "garbage truck",
    "fire engine": "fire engine",
    "fire truck": "fire truck",
    bus: "bus",
    minibus: "minibus",
    "school bus": "school bus",
    trolleybus: "trolleybus",
    camper: "camper",
    "recreational vehicle": "recreational vehicle",
    tractor: "tractor",
    forklift: "forklift",
    bulldozer: "bulldozer",
    excavator: "excavator",
    motorcycle: "motorcycle",
    motorbike: "motorbike",
    moped: "moped",
    scooter: "scooter",
    "motor scooter": "motor scooter",
    "all-terrain vehicle": "all-terrain vehicle",
    snowmobile: "snowmobile",
    "go-kart": "go-kart",
    "golf cart": "golf cart",
    bicycle: "bicycle",
    bike: "bike",
    "mountain bike": "mountain bike",
    tricycle: "tricycle",
    boat: "boat",
    ship: "ship",
    yacht: "yacht",
    speedboat: "speedboat",
    airplane: "airplane",
    aircraft: "aircraft",
    airliner: "airliner",
    helicopter: "helicopter",
    train: "train",
    locomotive: "locomotive",
    tram: "tram",
    streetcar: "streetcar",
  },
} as const;
