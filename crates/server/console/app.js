// fhirterm console: one hand-written module, no dependencies, no build step.
//
// Every screen is a fragment of the one page (#/dashboard, #/upload, ...). The module calls the
// server's FHIR and /admin APIs with the token pasted on the Token screen, kept in this tab's
// sessionStorage only. The token's payload is decoded here just to read its scopes and grey out
// screens it cannot use; the server checks every call itself.
//
// Safety: text from the server, from releases and from files is only ever put into the page as
// text (textContent, createTextNode, attribute values); nothing is parsed as HTML.

const TOKEN_KEY = "fhirterm.console.token";
const PAGE_SIZE = 50;
const LIST_PAGE_SIZE = 25;

const WRITE_SCOPE = "system/CodeSystem.write";
const AUDIT_SCOPE = "system/AuditEvent.read";

// ---------------------------------------------------------------------------------------------
// DOM helpers

/// Builds an element: `props` holds `class`, `id`, `text`, `attrs` (set as attributes), `on`
/// (event listeners) and plain properties (`value`, `type`, `disabled`...); children are nodes or
/// strings (added as text).
function el(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = value;
    else if (key === "attrs") for (const [name, text] of Object.entries(value)) { if (text !== undefined && text !== null) element.setAttribute(name, String(text)); }
    else if (key === "on") for (const [event, handler] of Object.entries(value)) element.addEventListener(event, handler);
    else element[key] = value;
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

let idCounter = 0;
function freshId(prefix) {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/// A labelled form field: the label is tied to the control by id.
function field(labelText, control, hintText) {
  control.id = control.id || freshId("field");
  const wrapper = el("div", { class: "field" }, el("label", { attrs: { for: control.id } }, labelText), control);
  if (hintText) {
    const hint = el("span", { class: "hint", id: freshId("hint") }, hintText);
    control.setAttribute("aria-describedby", hint.id);
    wrapper.append(hint);
  }
  return wrapper;
}

function notice(kind, ...children) {
  return el("div", { class: `notice ${kind}`, attrs: { role: kind === "error" ? "alert" : "status" } }, ...children);
}

function table(headers, rows, caption) {
  const head = el("tr", {}, headers.map((header) => el("th", { attrs: { scope: "col" }, class: header.number ? "number" : undefined }, header.label ?? header)));
  const body = rows.map((cells) => el("tr", {}, cells.map((cell, cellIdx) => el("td", { class: headers[cellIdx]?.number ? "number" : undefined }, cell))));
  return el("table", {}, caption ? el("caption", { class: "muted" }, caption) : null, el("thead", {}, head), el("tbody", {}, body));
}

function link(href, text) {
  return el("a", { href }, text);
}

function formatNumber(value) {
  return typeof value === "number" ? value.toLocaleString("en-US") : String(value ?? "");
}

function formatBytes(bytes) {
  if (typeof bytes !== "number") return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function formatTime(text) {
  if (!text) return "";
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : date.toLocaleString();
}

function hashFor(screen, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, value]) => value !== undefined && value !== null && value !== ""));
  const text = query.toString();
  return `#/${screen}${text ? `?${text}` : ""}`;
}

function conceptHref(system, version, code) {
  return hashFor("concept", { system, version, code });
}

/// Saves text as a file through a temporary blob URL.
function download(fileName, mediaType, text) {
  const url = URL.createObjectURL(new Blob([text], { type: mediaType }));
  const anchor = el("a", { href: url, download: fileName });
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function csvOf(rows) {
  const cell = (value) => {
    const text = value === undefined || value === null ? "" : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return rows.map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
}

// ---------------------------------------------------------------------------------------------
// The token and its scopes

function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

function decodeClaims(token) {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const base64 = payload.replaceAll("-", "+").replaceAll("_", "/").padEnd(Math.ceil(payload.length / 4) * 4, "=");
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

function scopesOf(claims) {
  if (!claims) return [];
  if (typeof claims.scope === "string") return claims.scope.split(/\s+/).filter(Boolean);
  if (Array.isArray(claims.scp)) return claims.scp.map(String);
  return [];
}

/// Whether a SMART v1 or v2 scope without a query grants `action` ("c", "r", "u", "d", "s") on
/// `resourceType`: the same reading as the server's.
function scopeGrants(scope, resourceType, action) {
  const match = /^(?:system|user)\/([^.?]+)\.([^?]+)$/.exec(scope);
  if (!match) return false;
  const [, type, permissions] = match;
  if (type !== resourceType && type !== "*") return false;
  if (permissions === "*") return true;
  if (permissions === "read") return action === "r" || action === "s";
  if (permissions === "write") return action === "c" || action === "u" || action === "d";
  let position = 0;
  for (const letter of permissions) {
    const found = "cruds".indexOf(letter, position);
    if (found < 0) return false;
    position = found + 1;
  }
  return permissions.includes(action);
}

const session = {
  token: "",
  claims: null,
  scopes: [],
  // True when the server accepts admin calls without a token (--allow-anonymous-writes).
  anonymousWrites: false,
  systems: null,
};

function loadSession() {
  session.token = storedToken();
  session.claims = session.token ? decodeClaims(session.token) : null;
  session.scopes = scopesOf(session.claims);
}

function allows(resourceType, actions) {
  if (!session.token) return session.anonymousWrites;
  return actions.every((action) => session.scopes.some((scope) => scopeGrants(scope, resourceType, action)));
}

// ---------------------------------------------------------------------------------------------
// The API

class ApiFailure extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/// The plain-words reason of a failed call: the OperationOutcome's issue texts, else the body.
function reasonOf(data, text, status) {
  if (data && data.resourceType === "OperationOutcome" && Array.isArray(data.issue)) {
    const texts = data.issue.map((issue) => issue.details?.text || issue.diagnostics || issue.code).filter(Boolean);
    if (texts.length) return texts.join("; ");
  }
  return text ? text.slice(0, 2000) : `the server answered ${status}`;
}

async function api(path, { method = "GET", json, body, auth = true } = {}) {
  const headers = new Headers({ Accept: "application/fhir+json, application/json" });
  if (auth && session.token) headers.set("Authorization", `Bearer ${session.token}`);
  if (json !== undefined) {
    headers.set("Content-Type", "application/fhir+json");
    body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body });
  } catch (error) {
    throw new ApiFailure(0, `the server could not be reached: ${error.message}`);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiFailure(response.status, reasonOf(data, text, response.status));
  return data;
}

function failureNotice(error) {
  const status = error instanceof ApiFailure && error.status ? ` (${error.status})` : "";
  return notice("error", `The server refused${status}: `, error.message);
}

async function codeSystems(refresh = false) {
  if (!session.systems || refresh) session.systems = await api("/admin/code-systems");
  return session.systems;
}

function allSystems(summary) {
  return summary.families.flatMap((family) => family.codeSystems.map((system) => ({ ...system, familyLabel: family.label })));
}

function systemLabel(system) {
  return `${system.title || system.name || system.url} (${system.familyLabel})`;
}

function parametersBody(entries) {
  const parameter = [];
  for (const [name, key, value] of entries) {
    if (value === undefined || value === null || value === "") continue;
    parameter.push({ name, [key]: value });
  }
  return { resourceType: "Parameters", parameter };
}

/// `$expand` by POST: a stored or implicit value set by `url`, or an inline one.
function expand({ url, valueSetVersion, valueSet, filter, offset = 0, count = PAGE_SIZE }) {
  const body = parametersBody([
    ["url", "valueUri", url],
    ["valueSetVersion", "valueString", valueSetVersion],
    ["filter", "valueString", filter],
    ["offset", "valueInteger", offset],
    ["count", "valueInteger", count],
  ]);
  if (valueSet) body.parameter.push({ name: "valueSet", resource: valueSet });
  return api("/fhir/ValueSet/$expand", { method: "POST", json: body });
}

function flatContains(contains = []) {
  return contains.flatMap((entry) => [entry, ...flatContains(entry.contains)]);
}

function parameterValue(parameter) {
  const key = Object.keys(parameter).find((name) => name.startsWith("value"));
  return key ? parameter[key] : undefined;
}

function codingText(value) {
  if (value && typeof value === "object") {
    if ("code" in value || "display" in value) return [value.display, value.code && `(${value.code})`].filter(Boolean).join(" ");
    return JSON.stringify(value);
  }
  return String(value ?? "");
}

// ---------------------------------------------------------------------------------------------
// Screens

const SCREENS = [
  { id: "dashboard", label: "Dashboard", render: showDashboard },
  { id: "browse", label: "Browse", render: showBrowse },
  { id: "search", label: "Search", render: showSearch },
  { id: "validate", label: "Validate", render: showValidate },
  { id: "valuesets", label: "Value sets", render: showValueSets },
  { id: "upload", label: "Upload", render: showUpload, needs: { type: "CodeSystem", actions: ["c", "u"], scope: WRITE_SCOPE } },
  { id: "jobs", label: "Jobs", render: showJobs, needs: { type: "CodeSystem", actions: ["c", "u"], scope: WRITE_SCOPE } },
  { id: "audit", label: "Audit", render: showAudit, needs: { type: "AuditEvent", actions: ["r"], scope: AUDIT_SCOPE } },
  { id: "token", label: "Token", render: showToken },
];

// Screens reached from others, not from the navigation.
const INNER_SCREENS = {
  concept: { render: showConcept, parent: "browse" },
  valueset: { render: showValueSet, parent: "valuesets" },
  job: { render: showJob, parent: "jobs", needs: SCREENS.find((screen) => screen.id === "jobs").needs },
};

/// The scope a screen needs and the token lacks, or null.
function missingScope(screen) {
  if (!screen.needs || allows(screen.needs.type, screen.needs.actions)) return null;
  return screen.needs.scope;
}

function renderNavigation(currentId) {
  const list = document.getElementById("nav");
  list.replaceChildren();
  for (const screen of SCREENS) {
    const missing = missingScope(screen);
    const anchor = el("a", { href: hashFor(screen.id), id: `nav-${screen.id}` }, screen.label);
    if (screen.id === currentId) anchor.setAttribute("aria-current", "page");
    if (missing) {
      anchor.setAttribute("aria-disabled", "true");
      anchor.title = `needs the scope ${missing}`;
      anchor.append(el("span", { class: "skip-link" }, ` (needs the scope ${missing})`));
    }
    list.append(el("li", {}, anchor));
  }
  const who = document.getElementById("who");
  if (session.token) {
    const subject = session.claims?.sub ? `Signed in as ${session.claims.sub}` : "Token without a subject";
    const expires = typeof session.claims?.exp === "number" ? `, until ${new Date(session.claims.exp * 1000).toLocaleTimeString()}` : "";
    who.textContent = `${subject}${expires}`;
  } else {
    who.textContent = session.anonymousWrites ? "No token (this server accepts anonymous writes)" : "No token: read-only";
  }
}

/// A notice and a flag for a screen the token may not use; the screen still shows what it would hold.
function scopeGate(screen, main) {
  const missing = missingScope(screen);
  if (missing) {
    main.append(
      notice(
        "warning",
        el("strong", {}, "Not available with this token. "),
        `This screen needs the scope ${missing}. `,
        session.token ? "The token you pasted does not have it; " : "No token is set; ",
        link(hashFor("token"), "paste a token that does"),
        ".",
      ),
    );
  }
  return missing;
}

function currentRoute() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [screenId, query = ""] = hash.split("?");
  return { screenId: screenId || "dashboard", params: new URLSearchParams(query) };
}

let renderGeneration = 0;

async function render() {
  const { screenId, params } = currentRoute();
  const screen = SCREENS.find((candidate) => candidate.id === screenId) || (INNER_SCREENS[screenId] && { id: screenId, ...INNER_SCREENS[screenId] });
  const main = document.getElementById("main");
  renderGeneration += 1;
  const generation = renderGeneration;
  main.replaceChildren();
  stopPolling();
  if (!screen) {
    renderNavigation(null);
    main.append(el("h1", {}, "No such screen"), el("p", {}, link(hashFor("dashboard"), "Back to the dashboard")));
    return;
  }
  renderNavigation(screen.parent || screen.id);
  const label = SCREENS.find((candidate) => candidate.id === (screen.parent || screen.id))?.label;
  document.title = `${label || screen.id} · fhirterm console`;
  try {
    await screen.render(main, params, () => generation === renderGeneration);
  } catch (error) {
    if (generation === renderGeneration) main.append(failureNotice(error));
  }
  if (generation === renderGeneration) main.dataset.ready = screen.id;
}

// --- Dashboard -----------------------------------------------------------------------------------

async function showDashboard(main) {
  main.append(el("h1", {}, "Code systems"));
  const summary = await codeSystems(true);
  const cards = el("div", { class: "cards" });
  for (const family of summary.families) {
    const headingId = freshId("family");
    const card = el("section", { class: "card", attrs: { "aria-labelledby": headingId, "data-family": family.family } }, el("h2", { id: headingId }, family.label));
    if (family.family === "fhir" && summary.builtinCodeSystems) {
      card.append(el("p", { class: "muted" }, `${formatNumber(summary.builtinCodeSystems)} FHIR R4 core code systems are built in.`));
    }
    if (!family.codeSystems.length) {
      card.classList.add("empty");
      card.append(el("p", { class: "muted" }, "Nothing loaded. ", link(hashFor("upload"), "Upload a release")));
    }
    for (const system of family.codeSystems) {
      append(card, [
        el("h3", {}, system.title || system.name || system.url),
        el("p", { class: "url" }, system.url),
        system.restricted ? notice("warning", "Restricted: this token may not read its concepts.") : null,
        el("p", {}, "Current version: ", el("strong", {}, system.currentVersion ?? "(none)")),
        table(
          ["Version", { label: "Concepts", number: true }, "Loaded", ""],
          system.versions.map((version) => [
            [version.version ?? "(no version)", version.current ? el("span", { class: "badge" }, "current") : null],
            formatNumber(version.concepts),
            formatTime(version.loadedAt),
            link(hashFor("browse", { system: system.url, version: version.version }), "Browse"),
          ]),
        ),
      ]);
    }
    cards.append(card);
  }
  main.append(cards);
}

// --- Browse --------------------------------------------------------------------------------------

function systemPicker(summary, selectedUrl, { allOption } = {}) {
  const select = el("select", {});
  if (allOption) select.append(el("option", { value: "" }, allOption));
  for (const system of allSystems(summary)) {
    select.append(el("option", { value: system.url, selected: system.url === selectedUrl }, systemLabel(system)));
  }
  return select;
}

async function showBrowse(main, params, stillCurrent) {
  main.append(el("h1", {}, "Browse a code system"));
  const summary = await codeSystems();
  const systems = allSystems(summary);
  if (!systems.length) {
    main.append(notice("info", "No code system is stored yet. ", link(hashFor("upload"), "Upload one")));
    return;
  }
  const systemUrl = params.get("system") || systems[0].url;
  const system = systems.find((candidate) => candidate.url === systemUrl);
  const version = params.get("version") || system?.currentVersion || "";
  const systemSelect = systemPicker(summary, systemUrl);
  const versionSelect = el("select", {});
  for (const candidate of system?.versions ?? []) {
    versionSelect.append(el("option", { value: candidate.version ?? "", selected: (candidate.version ?? "") === version }, `${candidate.version ?? "(no version)"}${candidate.current ? " (current)" : ""}`));
  }
  systemSelect.addEventListener("change", () => { location.hash = hashFor("browse", { system: systemSelect.value }); });
  versionSelect.addEventListener("change", () => { location.hash = hashFor("browse", { system: systemSelect.value, version: versionSelect.value }); });
  main.append(el("div", { class: "row" }, field("Code system", systemSelect), field("Version", versionSelect)));
  const tree = el("ul", { class: "tree", attrs: { "aria-label": "Top-level concepts" } });
  const more = el("div", { class: "pager" });
  main.append(el("h2", {}, "Top-level concepts"), tree, more);
  // The roots: concepts with no parent, through an inline value set, a page at a time.
  const roots = {
    resourceType: "ValueSet",
    status: "active",
    compose: { include: [{ system: systemUrl, ...(version ? { version } : {}), filter: [{ property: "parent", op: "exists", value: "false" }] }] },
  };
  async function loadPage(offset) {
    const expansion = await expand({ valueSet: roots, offset, count: PAGE_SIZE });
    if (!stillCurrent()) return;
    const entries = flatContains(expansion.expansion?.contains);
    for (const entry of entries) tree.append(treeItem(systemUrl, version, entry.code, entry.display));
    const total = expansion.expansion?.total ?? entries.length;
    more.replaceChildren(el("span", { class: "muted" }, `${formatNumber(offset + entries.length)} of ${formatNumber(total)} shown`));
    if (offset + entries.length < total) {
      more.append(el("button", { type: "button", class: "secondary", on: { click: () => loadPage(offset + PAGE_SIZE).catch((error) => more.append(failureNotice(error))) } }, "Show more"));
    }
  }
  await loadPage(0);
}

/// One concept in the tree: a toggle that loads its children through `$lookup`, and a link to its page.
function treeItem(system, version, code, display) {
  const item = el("li", {});
  const childList = el("ul", { hidden: true, attrs: { "aria-label": `Narrower concepts of ${code}` } });
  const toggle = el("button", { type: "button", class: "toggle", attrs: { "aria-expanded": "false", "aria-label": `Show narrower concepts of ${code}` } }, "+");
  let loaded = false;
  toggle.addEventListener("click", async () => {
    const opening = toggle.getAttribute("aria-expanded") !== "true";
    if (opening && !loaded) {
      toggle.disabled = true;
      try {
        const lookup = await api(`/fhir/CodeSystem/$lookup?${new URLSearchParams({ system, code, ...(version ? { version } : {}), property: "child" })}`);
        const children = (lookup.parameter ?? []).filter((parameter) => parameter.name === "property" && parameter.part?.some((part) => part.name === "code" && part.valueCode === "child"));
        for (const child of children) {
          const value = child.part.find((part) => part.name === "value");
          const description = child.part.find((part) => part.name === "description");
          childList.append(treeItem(system, version, value?.valueCode, description?.valueString));
        }
        if (!children.length) childList.append(el("li", { class: "muted" }, "No narrower concepts."));
        loaded = true;
      } catch (error) {
        childList.append(el("li", {}, failureNotice(error)));
      } finally {
        toggle.disabled = false;
      }
    }
    toggle.setAttribute("aria-expanded", String(opening));
    toggle.textContent = opening ? "−" : "+";
    childList.hidden = !opening;
  });
  item.append(toggle, link(conceptHref(system, version, code), code), display ? ` ${display}` : "", childList);
  return item;
}

// --- Concept -------------------------------------------------------------------------------------

async function showConcept(main, params) {
  const system = params.get("system") || "";
  const code = params.get("code") || "";
  const version = params.get("version") || "";
  const query = new URLSearchParams({ system, code, ...(version ? { version } : {}) });
  const lookup = await api(`/fhir/CodeSystem/$lookup?${query}`);
  const parameters = lookup.parameter ?? [];
  const single = (name) => parameters.find((parameter) => parameter.name === name);
  const display = single("display") ? parameterValue(single("display")) : "";
  main.append(el("h1", {}, el("span", { class: "code" }, code), display ? ` ${display}` : ""));
  const facts = el("dl", { class: "facts" });
  for (const parameter of parameters) {
    if (parameter.part) continue;
    facts.append(el("dt", {}, parameter.name), el("dd", { class: parameter.name === "system" ? "url" : undefined }, codingText(parameterValue(parameter))));
  }
  main.append(facts);
  main.append(
    el("p", {}, link(hashFor("validate", { system, code, version }), "Validate this code"), " · ", link(hashFor("browse", { system, version }), "Browse this code system")),
  );
  const designations = parameters.filter((parameter) => parameter.name === "designation");
  if (designations.length) {
    main.append(el("h2", {}, "Designations"));
    main.append(
      table(
        ["Language", "Use", "Value"],
        designations.map((designation) => {
          const part = (name) => designation.part.find((candidate) => candidate.name === name);
          return [part("language") ? parameterValue(part("language")) : "", part("use") ? codingText(parameterValue(part("use"))) : "", part("value") ? parameterValue(part("value")) : ""];
        }),
      ),
    );
  }
  const properties = parameters.filter((parameter) => parameter.name === "property");
  if (properties.length) {
    main.append(el("h2", {}, "Properties"));
    main.append(
      table(
        ["Property", "Value", "Description"],
        properties.map((property) => {
          const part = (name) => property.part.find((candidate) => candidate.name === name);
          const propertyCode = part("code") ? parameterValue(part("code")) : "";
          const value = part("value") ? parameterValue(part("value")) : "";
          const valueCell = (propertyCode === "parent" || propertyCode === "child") && typeof value === "string" ? link(conceptHref(system, version, value), value) : codingText(value);
          return [propertyCode, valueCell, part("description") ? parameterValue(part("description")) : ""];
        }),
      ),
    );
  }
}

// --- Search --------------------------------------------------------------------------------------

/// Searches one system, or every stored one, by `$expand` with a text filter on its implicit value set.
async function searchSystems(summary, systemUrl, text, countPerSystem, offset = 0) {
  const targets = allSystems(summary).filter((system) => !systemUrl || system.url === systemUrl);
  const answers = await Promise.all(
    targets.map(async (system) => {
      try {
        const expansion = await expand({ url: `${system.url}?fhir_vs`, filter: text, offset, count: countPerSystem });
        return { system, total: expansion.expansion?.total ?? 0, entries: flatContains(expansion.expansion?.contains) };
      } catch (error) {
        return { system, total: 0, entries: [], error };
      }
    }),
  );
  return answers;
}

async function showSearch(main, params, stillCurrent) {
  main.append(el("h1", {}, "Search"));
  const summary = await codeSystems();
  const text = params.get("q") || "";
  const systemUrl = params.get("system") || "";
  const listId = freshId("suggestions");
  const input = el("input", {
    type: "search",
    value: text,
    autocomplete: "off",
    attrs: { role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": listId },
  });
  const suggestions = el("ul", { class: "suggestions", id: listId, hidden: true, attrs: { role: "listbox", "aria-label": "Suggestions" } });
  const systemSelect = systemPicker(summary, systemUrl, { allOption: "All code systems" });
  const form = el(
    "form",
    { class: "stack", attrs: { role: "search" } },
    el("div", { class: "combo" }, field("Words or the start of a code", input, "Suggestions appear as you type; arrow keys choose, Enter opens."), suggestions),
    field("In", systemSelect),
    el("div", {}, el("button", { type: "submit" }, "Search")),
  );
  const results = el("div", { attrs: { "aria-live": "polite" } });
  main.append(form, results);

  let active = -1;
  let options = [];
  let typingTimer = 0;
  let typingGeneration = 0;
  const closeSuggestions = () => {
    suggestions.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const highlight = (idx) => {
    options.forEach((option, optionIdx) => option.setAttribute("aria-selected", String(optionIdx === idx)));
    active = idx;
    if (idx >= 0) {
      input.setAttribute("aria-activedescendant", options[idx].id);
      options[idx].scrollIntoView({ block: "nearest" });
    }
  };
  input.addEventListener("input", () => {
    clearTimeout(typingTimer);
    const query = input.value.trim();
    if (query.length < 2) { closeSuggestions(); return; }
    typingTimer = setTimeout(async () => {
      typingGeneration += 1;
      const mine = typingGeneration;
      const answers = await searchSystems(summary, systemSelect.value, query, systemSelect.value ? 10 : 4);
      if (mine !== typingGeneration || !stillCurrent()) return;
      const found = answers.flatMap((answer) => answer.entries.map((entry) => ({ ...entry, systemLabel: systemLabel(answer.system) }))).slice(0, 12);
      options = found.map((entry) => {
        const option = el("li", { id: freshId("option"), attrs: { role: "option", "aria-selected": "false" } }, el("span", { class: "code" }, entry.code), ` ${entry.display ?? ""}`, el("span", { class: "muted" }, ` · ${entry.systemLabel}`));
        option.addEventListener("mousedown", (event) => {
          event.preventDefault();
          location.hash = conceptHref(entry.system, entry.version, entry.code);
        });
        option.dataset.href = conceptHref(entry.system, entry.version, entry.code);
        return option;
      });
      suggestions.replaceChildren(...(options.length ? options : [el("li", { class: "muted", attrs: { role: "option", "aria-disabled": "true" } }, "No match")]));
      suggestions.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    }, 200);
  });
  input.addEventListener("keydown", (event) => {
    if (suggestions.hidden || !options.length) return;
    if (event.key === "ArrowDown") { event.preventDefault(); highlight((active + 1) % options.length); }
    else if (event.key === "ArrowUp") { event.preventDefault(); highlight((active - 1 + options.length) % options.length); }
    else if (event.key === "Escape") { closeSuggestions(); }
    else if (event.key === "Enter" && active >= 0) { event.preventDefault(); location.hash = options[active].dataset.href; }
  });
  input.addEventListener("blur", () => setTimeout(closeSuggestions, 150));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    typingGeneration += 1;
    clearTimeout(typingTimer);
    location.hash = hashFor("search", { q: input.value.trim(), system: systemSelect.value });
  });

  if (!text) return;
  const offset = Number(params.get("offset") || 0);
  const answers = await searchSystems(summary, systemUrl, text, systemUrl ? PAGE_SIZE : 20, offset);
  if (!stillCurrent()) return;
  results.replaceChildren(el("h2", {}, `Results for “${text}”`));
  let anything = false;
  for (const answer of answers) {
    if (answer.error) {
      results.append(el("h3", {}, systemLabel(answer.system)), failureNotice(answer.error));
      continue;
    }
    if (!answer.entries.length) continue;
    anything = true;
    results.append(
      el("h3", {}, `${systemLabel(answer.system)}: ${formatNumber(answer.total)} found`),
      table(
        ["Code", "Display", "Version"],
        answer.entries.map((entry) => [link(conceptHref(entry.system, entry.version, entry.code), entry.code), entry.display ?? "", entry.version ?? ""]),
      ),
    );
    const pager = el("div", { class: "pager" });
    if (systemUrl && offset > 0) pager.append(link(hashFor("search", { q: text, system: systemUrl, offset: Math.max(0, offset - PAGE_SIZE) }), "Previous page"));
    if (systemUrl && offset + answer.entries.length < answer.total) pager.append(link(hashFor("search", { q: text, system: systemUrl, offset: offset + PAGE_SIZE }), "Next page"));
    if (!systemUrl && answer.entries.length < answer.total) pager.append(link(hashFor("search", { q: text, system: answer.system.url }), `All ${formatNumber(answer.total)} in this system`));
    results.append(pager);
  }
  if (!anything) results.append(el("p", {}, "Nothing matches."));
}

// --- Validate ------------------------------------------------------------------------------------

const SEVERITY_WORDS = { fatal: "Problem", error: "Problem", warning: "Warning", information: "Note" };

async function showValidate(main, params, stillCurrent) {
  main.append(el("h1", {}, "Validate a code"));
  const summary = await codeSystems();
  const listId = freshId("systems");
  const datalist = el("datalist", { id: listId }, allSystems(summary).map((system) => el("option", { value: system.url }, systemLabel(system))));
  const inputs = {
    system: el("input", { type: "text", value: params.get("system") || "", required: true, attrs: { list: listId } }),
    code: el("input", { type: "text", value: params.get("code") || "", required: true }),
    version: el("input", { type: "text", value: params.get("version") || "" }),
    display: el("input", { type: "text", value: params.get("display") || "" }),
    valueSet: el("input", { type: "text", value: params.get("valueSet") || "" }),
    date: el("input", { type: "date", value: params.get("date") || "" }),
  };
  const form = el(
    "form",
    { class: "stack" },
    datalist,
    field("Code system (URL)", inputs.system),
    field("Code", inputs.code),
    field("Version (optional)", inputs.version, "Leave empty for the current version."),
    field("Display to check (optional)", inputs.display),
    field("Value set (optional URL)", inputs.valueSet, "The code must then also be a member of this value set."),
    field("Date (optional)", inputs.date, "The date of service: the release in force that day answers, and the code must have been in force then."),
    el("div", {}, el("button", { type: "submit" }, "Validate")),
  );
  const answer = el("section", { attrs: { "aria-live": "polite", "aria-label": "Answer" } });
  main.append(form, answer);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = Object.fromEntries(Object.entries(inputs).map(([name, input]) => [name, input.value.trim()]));
    const target = hashFor("validate", { ...values, run: "1" });
    if (location.hash === target) render();
    else location.hash = target;
  });
  if (!params.get("run")) return;
  const system = params.get("system");
  const query = new URLSearchParams({ code: params.get("code") || "" });
  const valueSet = params.get("valueSet");
  const version = params.get("version");
  if (valueSet) {
    query.set("url", valueSet);
    query.set("system", system);
    if (version) query.set("systemVersion", version);
  } else {
    query.set("url", system);
    if (version) query.set("version", version);
  }
  for (const name of ["display", "date"]) {
    if (params.get(name)) query.set(name, params.get(name));
  }
  const path = valueSet ? "/fhir/ValueSet/$validate-code" : "/fhir/CodeSystem/$validate-code";
  let result;
  try {
    result = await api(`${path}?${query}`);
  } catch (error) {
    answer.replaceChildren(failureNotice(error));
    return;
  }
  if (!stillCurrent()) return;
  const parameters = result.parameter ?? [];
  const get = (name) => parameters.find((parameter) => parameter.name === name);
  const valid = get("result")?.valueBoolean === true;
  answer.replaceChildren(
    el("h2", {}, "Answer"),
    el("p", { class: `verdict ${valid ? "valid" : "invalid"}`, id: "verdict" }, valid ? "Valid" : "Not valid"),
  );
  const facts = el("dl", { class: "facts" });
  for (const name of ["code", "system", "version", "display", "message"]) {
    if (get(name)) facts.append(el("dt", {}, name), el("dd", {}, codingText(parameterValue(get(name)))));
  }
  answer.append(facts);
  const issues = get("issues")?.resource?.issue ?? [];
  if (issues.length) {
    answer.append(el("h3", {}, "Issues"));
    answer.append(
      el(
        "ul",
        { class: "issues" },
        issues.map((issue) =>
          el("li", {}, el("strong", {}, `${SEVERITY_WORDS[issue.severity] || issue.severity}: `), issue.details?.text || issue.diagnostics || issue.code, issue.expression?.length ? el("span", { class: "muted" }, ` (at ${issue.expression.join(", ")})`) : null),
        ),
      ),
    );
  }
}

// --- Value sets ----------------------------------------------------------------------------------

async function showValueSets(main, params, stillCurrent) {
  main.append(el("h1", {}, "Value sets"));
  const name = params.get("name") || "";
  const offset = Number(params.get("offset") || 0);
  const nameInput = el("input", { type: "search", value: name });
  const urlInput = el("input", { type: "text", attrs: { placeholder: "http://example.org/ValueSet/x or http://loinc.org?fhir_vs" } });
  const searchForm = el("form", { class: "row" }, field("Name starts with", nameInput), el("button", { type: "submit" }, "List"));
  const openForm = el("form", { class: "row" }, field("Or expand by URL (stored, built-in or implicit)", urlInput), el("button", { type: "submit", class: "secondary" }, "Expand"));
  searchForm.addEventListener("submit", (event) => { event.preventDefault(); location.hash = hashFor("valuesets", { name: nameInput.value.trim() }); });
  openForm.addEventListener("submit", (event) => { event.preventDefault(); if (urlInput.value.trim()) location.hash = hashFor("valueset", { url: urlInput.value.trim() }); });
  main.append(searchForm, openForm);
  const query = new URLSearchParams({ _summary: "true", _count: String(LIST_PAGE_SIZE), _offset: String(offset), ...(name ? { name } : {}) });
  const bundle = await api(`/fhir/ValueSet?${query}`);
  if (!stillCurrent()) return;
  const entries = (bundle.entry ?? []).map((entry) => entry.resource);
  main.append(el("h2", {}, `${formatNumber(bundle.total ?? entries.length)} stored value sets`));
  if (entries.length) {
    main.append(
      table(
        ["Name", "URL", "Version", "Status"],
        entries.map((valueSet) => [
          link(hashFor("valueset", { url: valueSet.url, version: valueSet.version }), valueSet.title || valueSet.name || valueSet.id),
          el("span", { class: "url" }, valueSet.url ?? ""),
          valueSet.version ?? "",
          valueSet.status ?? "",
        ]),
      ),
    );
  }
  const pager = el("div", { class: "pager" });
  if (offset > 0) pager.append(link(hashFor("valuesets", { name, offset: Math.max(0, offset - LIST_PAGE_SIZE) }), "Previous page"));
  if (offset + entries.length < (bundle.total ?? 0)) pager.append(link(hashFor("valuesets", { name, offset: offset + LIST_PAGE_SIZE }), "Next page"));
  main.append(pager);
}

async function showValueSet(main, params, stillCurrent) {
  const url = params.get("url") || "";
  const version = params.get("version") || "";
  const filter = params.get("filter") || "";
  const offset = Number(params.get("offset") || 0);
  main.append(el("h1", {}, "Value set expansion"), el("p", { class: "url" }, version ? `${url}|${version}` : url));
  const filterInput = el("input", { type: "search", value: filter });
  const form = el("form", { class: "row" }, field("Filter", filterInput), el("button", { type: "submit" }, "Apply"));
  form.addEventListener("submit", (event) => { event.preventDefault(); location.hash = hashFor("valueset", { url, version, filter: filterInput.value.trim() }); });
  main.append(form);
  const expansion = await expand({ url, valueSetVersion: version, filter, offset, count: PAGE_SIZE });
  if (!stillCurrent()) return;
  const entries = flatContains(expansion.expansion?.contains);
  const total = expansion.expansion?.total ?? entries.length;
  main.append(el("p", {}, `${formatNumber(total)} concepts${filter ? ` match “${filter}”` : ""}; showing ${formatNumber(entries.length ? offset + 1 : 0)} to ${formatNumber(offset + entries.length)}.`));
  const downloads = el("div", { class: "pager" });
  const status = el("span", { class: "muted", attrs: { role: "status" } });
  const fetchAll = async () => {
    const all = [];
    const limit = 50000;
    for (let start = 0; start < Math.min(total, limit); start += 1000) {
      status.textContent = `Fetching ${formatNumber(start)} of ${formatNumber(Math.min(total, limit))}…`;
      const page = await expand({ url, valueSetVersion: version, filter, offset: start, count: 1000 });
      all.push(...flatContains(page.expansion?.contains));
    }
    status.textContent = total > limit ? `Only the first ${formatNumber(limit)} of ${formatNumber(total)} were saved.` : `Saved ${formatNumber(all.length)} concepts.`;
    return all;
  };
  const fileStem = (url.split("/").pop() || "valueset").replace(/[^A-Za-z0-9._-]+/g, "_");
  downloads.append(
    el("button", { type: "button", class: "secondary", on: { click: async () => {
      const all = await fetchAll().catch((error) => { status.textContent = error.message; return null; });
      if (all) download(`${fileStem}.json`, "application/json", JSON.stringify({ resourceType: "ValueSet", url, version: version || undefined, expansion: { total: all.length, contains: all.map(({ contains, ...entry }) => entry) } }, null, 2));
    } } }, "Download JSON"),
    el("button", { type: "button", class: "secondary", on: { click: async () => {
      const all = await fetchAll().catch((error) => { status.textContent = error.message; return null; });
      if (all) download(`${fileStem}.csv`, "text/csv", csvOf([["system", "version", "code", "display"], ...all.map((entry) => [entry.system, entry.version, entry.code, entry.display])]));
    } } }, "Download CSV"),
    status,
  );
  main.append(downloads);
  main.append(
    table(
      ["Code", "Display", "System"],
      entries.map((entry) => [entry.system ? link(conceptHref(entry.system, entry.version, entry.code), entry.code) : entry.code, entry.display ?? "", el("span", { class: "url" }, entry.system ?? "")]),
    ),
  );
  const pager = el("div", { class: "pager" });
  if (offset > 0) pager.append(link(hashFor("valueset", { url, version, filter, offset: Math.max(0, offset - PAGE_SIZE) }), "Previous page"));
  if (offset + entries.length < total) pager.append(link(hashFor("valueset", { url, version, filter, offset: offset + PAGE_SIZE }), "Next page"));
  main.append(pager);
}

// --- Upload and jobs ------------------------------------------------------------------------------

const FORMATS = [
  ["auto", "Recognise it (auto)"],
  ["billing", "Billing list (code, description, category)"],
  ["fhir", "FHIR resources or package"],
  ["icd10cm", "ICD-10-CM"],
  ["icd10pcs", "ICD-10-PCS"],
  ["hcpcs", "HCPCS Level II"],
  ["cpt", "CPT (AMA descriptor files)"],
  ["loinc", "LOINC"],
  ["snomed", "SNOMED CT RF2"],
  ["rxnorm", "RxNorm RRF"],
  ["ndc", "NDC"],
  ["csv", "Billing list with a code_type column"],
];

const CODE_TYPES = [
  ["cpt", "CPT"],
  ["icd10", "ICD-10-CM"],
  ["hcpcs", "HCPCS"],
  ["custom", "Local codes (custom)"],
];

let pollTimer = 0;
function stopPolling() {
  clearTimeout(pollTimer);
  pollTimer = 0;
}

async function showUpload(main, params, stillCurrent) {
  main.append(el("h1", {}, "Upload a release"));
  const missing = scopeGate(SCREENS.find((screen) => screen.id === "upload"), main);
  let chosenFiles = [];
  const fileInput = el("input", { type: "file", multiple: true });
  const fileList = el("ul", { class: "files", attrs: { "aria-live": "polite", "aria-label": "Chosen files" } });
  const showFiles = () => {
    fileList.replaceChildren(...chosenFiles.map((file) => el("li", {}, `${file.name} (${formatBytes(file.size)})`)));
  };
  fileInput.addEventListener("change", () => { chosenFiles = [...fileInput.files]; showFiles(); });
  const dropZone = el(
    "div",
    { class: "drop-zone", id: "drop-zone", attrs: { "aria-label": "Drop files here" } },
    el("p", {}, "Drop the release here (a zip, a tarball or its files), or choose them:"),
    field("Files", fileInput),
    fileList,
  );
  for (const name of ["dragenter", "dragover"]) dropZone.addEventListener(name, (event) => { event.preventDefault(); dropZone.classList.add("over"); });
  dropZone.addEventListener("dragleave", () => dropZone.classList.remove("over"));
  dropZone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropZone.classList.remove("over");
    if (missing) return;
    chosenFiles = [...(event.dataTransfer?.files ?? [])];
    showFiles();
    if (chosenFiles.length) form.requestSubmit();
  });
  const formatSelect = el("select", {}, FORMATS.map(([value, label]) => el("option", { value }, label)));
  const codeTypeSelect = el("select", {}, CODE_TYPES.map(([value, label]) => el("option", { value }, label)));
  const codeTypeField = field("Code type of the billing CSV", codeTypeSelect);
  codeTypeField.hidden = true;
  formatSelect.addEventListener("change", () => { codeTypeField.hidden = formatSelect.value !== "billing"; });
  const versionInput = el("input", { type: "text" });
  const makeCurrent = el("input", { type: "checkbox", checked: true, id: freshId("make-current") });
  const dryRun = el("input", { type: "checkbox", id: freshId("dry-run") });
  const submit = el("button", { type: "submit" }, "Upload");
  const fieldset = el(
    "fieldset",
    { disabled: Boolean(missing) },
    el("legend", {}, "Release"),
    dropZone,
    field("Format", formatSelect),
    codeTypeField,
    field("Version (optional)", versionInput, "Leave empty to take the version from the release."),
    el("div", { class: "checkbox" }, makeCurrent, el("label", { attrs: { for: makeCurrent.id } }, "Make it the current version")),
    el("div", { class: "checkbox" }, dryRun, el("label", { attrs: { for: dryRun.id } }, "Dry run: check and compare, store nothing")),
    el("div", {}, submit),
  );
  const form = el("form", { class: "stack", id: "upload-form" }, fieldset);
  const outcome = el("section", { id: "upload-outcome", attrs: { "aria-label": "Upload progress" } });
  main.append(form, outcome);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (missing) return;
    if (!chosenFiles.length) {
      outcome.replaceChildren(notice("error", "Choose or drop at least one file."));
      return;
    }
    const body = new FormData();
    if (formatSelect.value === "billing") body.append("code_type", codeTypeSelect.value);
    else body.append("format", formatSelect.value);
    if (versionInput.value.trim()) body.append("version", versionInput.value.trim());
    body.append("make_current", String(makeCurrent.checked));
    body.append("dry_run", String(dryRun.checked));
    for (const file of chosenFiles) body.append("file", file, file.name);
    const totalBytes = chosenFiles.reduce((sum, file) => sum + file.size, 0);
    outcome.replaceChildren(el("p", { attrs: { role: "status" } }, `Sending ${formatBytes(totalBytes)}…`));
    submit.disabled = true;
    try {
      const job = await api("/admin/upload", { method: "POST", body });
      if (!stillCurrent()) return;
      outcome.replaceChildren();
      followJob(outcome, job.id, stillCurrent);
    } catch (error) {
      outcome.replaceChildren(el("h2", {}, "The upload was refused"), failureNotice(error));
    } finally {
      submit.disabled = false;
    }
  });
}

/// Polls a job until it ends, showing its progress, then its report.
function followJob(container, jobId, stillCurrent) {
  const heading = el("h2", {}, "Job ", el("span", { class: "code" }, jobId));
  const progress = el("progress", { max: 100, value: 0, id: "job-progress", attrs: { "aria-label": "Job progress" } });
  const progressText = el("p", { class: "progress-text", id: "job-progress-text", attrs: { role: "status", "aria-live": "polite" } });
  const report = el("div", { id: "job-report" });
  container.replaceChildren(heading, progress, progressText, report);
  const poll = async () => {
    let job;
    try {
      job = await api(`/admin/jobs/${encodeURIComponent(jobId)}`);
    } catch (error) {
      report.replaceChildren(failureNotice(error));
      return;
    }
    if (!stillCurrent()) return;
    const numbers = job.progress ?? {};
    progress.value = numbers.percent ?? 0;
    progressText.textContent = `${job.state}, ${job.phase}: ${numbers.percent ?? 0}% · ${formatBytes(numbers.bytesDone)} of ${formatBytes(numbers.bytesTotal)} read · ${formatNumber(numbers.rowsDone)} rows`;
    if (job.state === "succeeded" || job.state === "failed") {
      progress.value = job.state === "succeeded" ? 100 : progress.value;
      report.replaceChildren(jobReport(job));
      container.dataset.state = job.state;
      return;
    }
    pollTimer = setTimeout(poll, 400);
  };
  poll();
}

/// A list shown a page at a time, with a CSV download of all of it.
function pagedList(title, headers, rows, fileName) {
  const section = el("section", { class: "paged-list", attrs: { "data-list": fileName } });
  const headingId = freshId("list");
  section.setAttribute("aria-labelledby", headingId);
  section.append(el("h4", { id: headingId }, title));
  if (!rows.length) {
    section.append(el("p", { class: "muted" }, "None."));
    return section;
  }
  const body = el("div", {});
  const pager = el("div", { class: "pager" });
  let page = 0;
  const n_pages = Math.ceil(rows.length / LIST_PAGE_SIZE);
  const show = () => {
    body.replaceChildren(table(headers, rows.slice(page * LIST_PAGE_SIZE, (page + 1) * LIST_PAGE_SIZE)));
    previous.disabled = page === 0;
    next.disabled = page >= n_pages - 1;
    where.textContent = `Page ${page + 1} of ${n_pages}`;
  };
  const previous = el("button", { type: "button", class: "secondary", on: { click: () => { page -= 1; show(); } } }, "Previous");
  const next = el("button", { type: "button", class: "secondary", on: { click: () => { page += 1; show(); } } }, "Next");
  const where = el("span", { class: "muted" });
  const save = el("button", { type: "button", class: "secondary", on: { click: () => download(`${fileName}.csv`, "text/csv", csvOf([headers.map((header) => header.label ?? header), ...rows])) } }, "Download CSV");
  pager.append(previous, where, next, save);
  section.append(body, pager);
  show();
  return section;
}

function jobReport(job) {
  const report = el("div", {});
  const words = job.state === "succeeded" ? (job.dryRun ? "Dry run finished: nothing was stored." : "Stored.") : "Failed: nothing was stored.";
  report.append(notice(job.state === "succeeded" ? "success" : "error", el("strong", {}, words), job.error ? [" ", job.error] : null));
  const facts = el("dl", { class: "facts" });
  const add = (name, value) => { if (value !== undefined && value !== null && value !== "") facts.append(el("dt", {}, name), el("dd", {}, value)); };
  add("Format", job.format);
  add("Version", job.version);
  add("Files", (job.files ?? []).map((file) => `${file.name} (${formatBytes(file.bytes)})`).join(", "));
  add("By", job.sub);
  add("Started", formatTime(job.startedAt));
  add("Finished", formatTime(job.finishedAt));
  if (job.counts) {
    add("Code systems", formatNumber(job.counts.codeSystems));
    add("Concepts", formatNumber(job.counts.concepts));
    add("Value sets", formatNumber(job.counts.valueSets));
    add("Concept maps", formatNumber(job.counts.conceptMaps));
  }
  add("Diagnostics", formatNumber(job.diagnosticsTotal));
  report.append(facts);
  const diagnostics = job.diagnostics ?? [];
  if (diagnostics.length) {
    report.append(el("h3", {}, "Diagnostics"));
    if (job.diagnosticsTotal > diagnostics.length) report.append(el("p", { class: "muted" }, `The first ${formatNumber(diagnostics.length)} of ${formatNumber(job.diagnosticsTotal)}.`));
    report.append(pagedList(job.state === "succeeded" ? "Rows the loader skipped or changed" : "Rows in error, skipped or changed", ["File", { label: "Line", number: true }, "Value", "Reason"], diagnostics.map((diagnostic) => [diagnostic.path, diagnostic.line, diagnostic.value, diagnostic.message]), `job-${job.id}-diagnostics`));
  }
  const diffs = job.diff ?? [];
  if (job.state === "succeeded") {
    report.append(el("h3", { id: "diff-heading" }, "What changed"));
    if (!diffs.length) report.append(el("p", { class: "muted" }, "No earlier version of these code systems was served, so there is nothing to compare."));
  }
  for (const diff of diffs) {
    const section = el("section", { class: "diff", attrs: { "data-system": diff.system } });
    section.append(
      el("h4", {}, `${diff.system}: ${diff.fromVersion ?? "(no version)"} → ${diff.toVersion ?? "(no version)"}`),
      el("p", {}, `${formatNumber(diff.conceptsBefore)} concepts before, ${formatNumber(diff.conceptsAfter)} after.`),
      table(
        ["Added", "Retired", "Reactivated", "Displays changed", "Moved"].map((label) => ({ label, number: true })),
        [[diff.counts.added, diff.counts.retired, diff.counts.reactivated, diff.counts.displayChanged, diff.counts.moved].map(formatNumber)],
      ),
    );
    if (diff.truncated) section.append(notice("warning", "Each list below holds at most the first 1,000 codes; the counts above are exact."));
    const stem = `job-${job.id}`;
    section.append(
      pagedList("Added", ["Code"], diff.added.map((code) => [code]), `${stem}-added`),
      pagedList("Retired", ["Code"], diff.retired.map((code) => [code]), `${stem}-retired`),
      pagedList("Reactivated", ["Code"], diff.reactivated.map((code) => [code]), `${stem}-reactivated`),
      pagedList("Displays changed", ["Code", "Before", "After"], diff.displayChanged.map((change) => [change.code, change.before, change.after]), `${stem}-displays-changed`),
      pagedList("Moved in the hierarchy", ["Code", "Parents before", "Parents after"], (diff.moved ?? []).map((change) => [change.code, (change.parentsBefore ?? []).join(" "), (change.parentsAfter ?? []).join(" ")]), `${stem}-moved`),
    );
    report.append(section);
  }
  return report;
}

async function showJobs(main, params, stillCurrent) {
  main.append(el("h1", {}, "Jobs"));
  if (scopeGate(SCREENS.find((screen) => screen.id === "jobs"), main)) return;
  const list = await api("/admin/jobs?_count=100");
  if (!stillCurrent()) return;
  if (!list.jobs.length) {
    main.append(el("p", {}, "No upload yet."));
    return;
  }
  main.append(
    table(
      ["Job", "State", "Format", "Version", "Files", "By", "Created"],
      list.jobs.map((job) => [
        link(hashFor("job", { id: job.id }), job.id.slice(0, 8)),
        [job.state, job.dryRun ? el("span", { class: "badge neutral" }, "dry run") : null],
        job.format,
        job.version ?? "",
        (job.files ?? []).map((file) => file.name).join(", "),
        job.sub ?? "",
        formatTime(job.createdAt),
      ]),
    ),
  );
}

async function showJob(main, params, stillCurrent) {
  main.append(el("h1", {}, "Job"), el("p", {}, link(hashFor("jobs"), "All jobs")));
  if (scopeGate(INNER_SCREENS.job, main)) return;
  const container = el("section", {});
  main.append(container);
  followJob(container, params.get("id") || "", stillCurrent);
}

async function showAudit(main, params, stillCurrent) {
  main.append(el("h1", {}, "Audit log"));
  if (scopeGate(SCREENS.find((screen) => screen.id === "audit"), main)) return;
  const log = await api("/admin/audit?_count=200");
  if (!stillCurrent()) return;
  main.append(
    table(
      ["When", "Who", "Action", "Target", "Outcome", "Detail"],
      log.entries.map((entry) => [formatTime(entry.at), entry.sub ?? "(anonymous)", entry.action, entry.target, entry.outcome, entry.detail ?? ""]),
    ),
  );
}

// --- Token ---------------------------------------------------------------------------------------

async function showToken(main) {
  main.append(el("h1", {}, "Token"));
  main.append(el("p", {}, "Paste a bearer token (a JWT). It is kept in this browser tab only (sessionStorage) and sent with every call; closing the tab forgets it."));
  const textarea = el("textarea", { spellcheck: false, autocomplete: "off" });
  const form = el(
    "form",
    { class: "stack" },
    field("Bearer token", textarea),
    el("div", { class: "row" }, el("button", { type: "submit" }, "Use this token"), el("button", { type: "button", class: "secondary", id: "forget-token", on: { click: () => { sessionStorage.removeItem(TOKEN_KEY); loadSession(); render(); } } }, "Forget the token")),
  );
  const status = el("div", { attrs: { "aria-live": "polite" } });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = textarea.value.trim().replace(/^Bearer\s+/i, "");
    if (!decodeClaims(token)) {
      status.replaceChildren(notice("error", "That is not a JWT: expected three base64url parts separated by dots."));
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    loadSession();
    session.systems = null;
    location.hash = hashFor("dashboard");
  });
  main.append(form, status);
  if (session.token) {
    const facts = el("dl", { class: "facts", id: "token-facts" });
    facts.append(el("dt", {}, "Subject"), el("dd", {}, session.claims?.sub ?? "(none)"));
    facts.append(el("dt", {}, "Scopes"), el("dd", {}, session.scopes.join(" ") || "(none)"));
    if (typeof session.claims?.exp === "number") facts.append(el("dt", {}, "Expires"), el("dd", {}, new Date(session.claims.exp * 1000).toLocaleString()));
    main.append(el("h2", {}, "The token in use"), facts);
  }
  main.append(el("h2", {}, "What each screen needs"));
  main.append(
    table(
      ["Screen", "Scope", "This token"],
      SCREENS.filter((screen) => screen.needs).map((screen) => [screen.label, screen.needs.scope, missingScope(screen) ? "missing" : "granted"]),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Start

async function start() {
  loadSession();
  if (!session.token) {
    // A server started with --allow-anonymous-writes lets admin calls through without a token.
    try {
      await api("/admin/jobs?_count=1", { auth: false });
      session.anonymousWrites = true;
    } catch {
      session.anonymousWrites = false;
    }
  }
  window.addEventListener("hashchange", () => {
    render().then(() => document.getElementById("main").focus({ preventScroll: true }));
  });
  await render();
}

start();
