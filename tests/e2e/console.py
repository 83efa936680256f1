#!/usr/bin/env python3
"""End-to-end checks of the console (/console) in a real Chromium, against a real fhirterm.

Starts the debug `fhirterm` binary on a scratch SQLite database with an HS256 secret, mints
tokens with the standard library, and drives the screens with Playwright: uploads of a billing
CSV (twice, so that the second shows a diff) and of an HCPCS zip with progress to 100%, the
dashboard, search with type-ahead from the keyboard, a concept page, browsing, validation with
and without a date, value set expansion, jobs and audit, a token without write scope, and a
corrupt zip dropped on the upload screen. It takes screenshots of the dashboard, a concept page
and an upload diff (into docs/screenshots/ when FHIRTERM_E2E_SCREENSHOTS=docs/screenshots).

Exits 0 saying it skipped when /usr/bin/chromium or the playwright module is missing, and 1 when
any check fails. Run by scripts/test after the cargo tests; alone: python3 tests/e2e/console.py.
"""

import base64
import hashlib
import hmac
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
SECRET = "console-e2e-secret-that-is-long-enough-for-hs256"
HCPCS_URL = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
CPT_URL = "http://www.ama-assn.org/go/cpt"
# Screenshots go to the cache unless FHIRTERM_E2E_SCREENSHOTS names a folder: the committed ones in
# docs/screenshots/ change only when asked (FHIRTERM_E2E_SCREENSHOTS=docs/screenshots), since their
# times differ on every run.
SCREENSHOTS = Path(os.environ.get("FHIRTERM_E2E_SCREENSHOTS") or Path(os.environ.get("FHIRTERM_CACHE") or Path.home() / ".cache/fhirterm") / "e2e-screenshots").resolve()
TIMEOUT_MS = 10_000


def skip(reason):
    print(f"e2e: skipped: {reason}")
    sys.exit(0)


if not os.access(CHROMIUM, os.X_OK):
    skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    skip("the playwright module is not installed (pip install playwright)")


def mint(sub, scopes):
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"sub": sub, "scope": scopes, "exp": int(time.time()) + 3600}
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    signature = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(signature)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def binary():
    target = os.environ.get("CARGO_TARGET_DIR") or str(Path.home() / ".cache/fhirterm/target")
    path = Path(os.environ.get("FHIRTERM_BIN") or Path(target) / "debug" / "fhirterm")
    if not path.exists():
        print(f"e2e: FAIL: no fhirterm binary at {path} (cargo build -p server --bin fhirterm)")
        sys.exit(1)
    return path


def hcpcs_zip():
    """The tiny HCPCS fixture zipped under the name CMS gives its release."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(REPO / "crates/loaders/test_data/hcpcs/HCPC2019_CONTR_ANWEB.txt", "HCPC2019_CONTR_ANWEB.txt")
    return buffer.getvalue()


# Invented codes in the billing CSV's shape; the second release adds one, drops one and renames one.
BILLING_2025 = (
    "code,description,category\n"
    "99990,Invented practice visit level 1,E/M\n"
    "99991,Invented practice visit level 2,E/M\n"
    "99992,Invented wound dressing,Procedures\n"
)
# The same list with a row in error: the whole list is refused, and the row is named.
BILLING_BAD = BILLING_2025 + ",<img src=x onerror=window.pwned=1> row without a code,E/M\n"
BILLING_2026 = (
    "code,description,category\n"
    "99990,Invented practice visit level 1,E/M\n"
    "99991,Invented practice visit level 2 (extended),E/M\n"
    "99993,Invented telehealth check-in,E/M\n"
)


class Checks:
    def __init__(self):
        self.failures = []
        self.passed = 0

    def run(self, name, body):
        started = time.time()
        try:
            body()
            self.passed += 1
            print(f"e2e: ok   {name} ({time.time() - started:.1f}s)")
        except Exception as error:  # noqa: BLE001 - every failure is reported, then the run goes on
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            self.failures.append(f"{name}: {first_line}")
            print(f"e2e: FAIL {name}: {error}")


def main():
    work = Path(tempfile.mkdtemp(prefix="fhirterm-e2e-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = dict(os.environ, FHIRTERM_JWT_HS256_SECRET=SECRET)
    for name in ("FHIRTERM_DATABASE_URL", "FHIRTERM_LISTEN", "FHIRTERM_READ_REQUIRES_AUTH", "FHIRTERM_RESTRICTED_SYSTEMS"):
        environment.pop(name, None)
    log = open(work / "server.log", "w")
    server = subprocess.Popen(
        [str(binary()), "serve", "--listen", f"127.0.0.1:{port}", "--database", f"sqlite://{work}/console.db",
         "--staging-dir", str(work / "staging")],
        env=environment, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/health/ready", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit(f"e2e: FAIL: the server exited: {(work / 'server.log').read_text()[-2000:]}")
                time.sleep(0.1)
        else:
            raise SystemExit("e2e: FAIL: the server did not become ready in 30 s")
        files = work / "files"
        files.mkdir()
        (files / "billing-2025.csv").write_text(BILLING_2025)
        (files / "billing-bad.csv").write_text(BILLING_BAD)
        (files / "billing-2026.csv").write_text(BILLING_2026)
        (files / "2019-Alpha-Numeric-HCPCS-File.zip").write_bytes(hcpcs_zip())
        status = drive(base, work, files)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(status)


def drive(base, work, files):
    checks = Checks()
    admin_token = mint("admin@example.org", "system/CodeSystem.write system/ValueSet.write system/CodeSystem.read system/AuditEvent.read")
    reader_token = mint("reader@example.org", "system/CodeSystem.read system/ValueSet.read")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(work / "chromium-profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1280, "height": 900}, accept_downloads=True,
        )
        context.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        page_problems = []

        def watch(page):
            def on_console(message):
                # A refused fetch is logged by Chromium as a failed resource; the screens show those.
                if message.type == "error" and "Failed to load resource" not in message.text:
                    page_problems.append(message.text)
            page.on("console", on_console)
            page.on("pageerror", lambda error: page_problems.append(str(error)))
            return page

        page = watch(context.new_page())

        def go(fragment, screen):
            # A fresh load each time: the same fragment again would keep the screen as it was.
            page.goto("about:blank")
            page.goto(f"{base}/console#/{fragment}")
            expect(page.locator(f"main[data-ready='{screen}']")).to_be_attached()

        def use_token(target, token):
            target.goto(f"{base}/console#/token")
            target.get_by_label("Bearer token").fill(token)
            target.get_by_role("button", name="Use this token").click()
            expect(target.locator("main[data-ready='dashboard']")).to_be_attached()

        def upload(file_name, fmt, version=None, code_type=None, ends="succeeded"):
            go("upload", "upload")
            page.get_by_label("Files", exact=True).set_input_files(str(files / file_name))
            page.get_by_label("Format").select_option(fmt)
            if code_type:
                page.get_by_label("Code type of the billing CSV").select_option(code_type)
            if version:
                page.get_by_label("Version (optional)").fill(version)
            page.get_by_role("button", name="Upload", exact=True).click()
            outcome = page.locator("#upload-outcome")
            expect(outcome).to_have_attribute("data-state", ends)
            if ends == "succeeded":
                assert page.locator("#job-progress").evaluate("node => node.value") == 100, "the progress bar is not full"
                expect(page.locator("#job-progress-text")).to_contain_text("succeeded, done: 100%")
            return outcome

        def failed_job():
            outcome = upload("billing-2026.csv", "hcpcs", ends="failed")
            expect(outcome).to_contain_text("Failed: nothing was stored.")
            expect(outcome).to_contain_text("HCPC")

        def first_upload():
            use_token(page, admin_token)
            # A list with a row in error stores nothing and names the row, shown as text: its
            # markup is never run.
            outcome = upload("billing-bad.csv", "billing", version="2025", code_type="cpt", ends="failed")
            expect(outcome).to_contain_text("Failed: nothing was stored.")
            expect(outcome.locator("[data-list$='-diagnostics']")).to_contain_text("<img src=x onerror=window.pwned=1>")
            assert page.evaluate("window.pwned") is None, "text from a release ran as markup"
            outcome = upload("billing-2025.csv", "billing", version="2025", code_type="cpt")
            expect(outcome).to_contain_text("nothing to compare")

        def hcpcs_upload():
            outcome = upload("2019-Alpha-Numeric-HCPCS-File.zip", "hcpcs")
            expect(outcome).to_contain_text("2019-Alpha-Numeric-HCPCS-File.zip")

        def second_upload_shows_the_diff():
            outcome = upload("billing-2026.csv", "billing", version="2026", code_type="cpt")
            diff = outcome.locator(f"section.diff[data-system='{CPT_URL}']")
            expect(diff).to_contain_text("2025 → 2026")
            expect(diff.locator("[data-list$='-added']")).to_contain_text("99993")
            expect(diff.locator("[data-list$='-retired']")).to_contain_text("99992")
            changed = diff.locator("[data-list$='-displays-changed']")
            expect(changed).to_contain_text("Invented practice visit level 2 (extended)")
            with page.expect_download() as downloading:
                changed.get_by_role("button", name="Download CSV").click()
            saved = Path(downloading.value.path()).read_text()
            assert "99991" in saved and "(extended)" in saved, saved
            outcome.locator("#diff-heading").scroll_into_view_if_needed()
            outcome.screenshot(path=str(SCREENSHOTS / "upload-diff.png"))

        def dashboard():
            go("dashboard", "dashboard")
            hcpcs = page.locator("section.card[data-family='hcpcs']")
            expect(hcpcs).to_contain_text(HCPCS_URL)
            expect(hcpcs).to_contain_text("Current version: 2019")
            cpt = page.locator("section.card[data-family='cpt']")
            expect(cpt).to_contain_text("Current version: 2026")
            expect(cpt.locator("tbody tr")).to_have_count(2)
            expect(page.locator("section.card[data-family='loinc']")).to_contain_text("Nothing loaded")
            page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)

        def search_and_concept_page():
            go("search", "search")
            box = page.get_by_role("combobox", name="Words or the start of a code")
            box.press_sequentially("syringe", delay=30)
            option = page.get_by_role("option").filter(has_text="A4206")
            expect(option).to_be_visible()
            box.press("ArrowDown")
            expect(option).to_have_attribute("aria-selected", "true")
            box.press("Enter")
            expect(page.locator("main[data-ready='concept']")).to_be_attached()
            expect(page.locator("h1")).to_contain_text("A4206")
            expect(page.locator("main")).to_contain_text("Syringe with needle, sterile, 1 cc or less, each")
            expect(page.get_by_role("row").filter(has_text="addDate")).to_contain_text("1984-01-01")
            page.screenshot(path=str(SCREENSHOTS / "concept.png"), full_page=True)
            # The full result list, from the form.
            go("search", "search")
            page.get_by_role("combobox", name="Words or the start of a code").fill("invented")
            page.get_by_role("button", name="Search").click()
            expect(page.locator("main")).to_contain_text("99993")

        def browse():
            page.goto(f"{base}/console#/browse?system={HCPCS_URL}")
            expect(page.locator("main[data-ready='browse']")).to_be_attached()
            expect(page.locator(".tree > li")).not_to_have_count(0)
            page.get_by_role("button", name="Show narrower concepts of A4206").click()
            expect(page.locator(".tree")).to_contain_text("No narrower concepts.")

        def validate():
            go("validate", "validate")
            page.get_by_label("Code system (URL)").fill(HCPCS_URL)
            page.get_by_label("Code", exact=True).fill("A9270")
            page.get_by_role("button", name="Validate").click()
            expect(page.locator("#verdict")).to_have_text("Valid")
            # A day after the only loaded release (2019) ended: the server says so, plainly.
            page.get_by_label("Date (optional)").fill("2020-06-01")
            page.get_by_role("button", name="Validate").click()
            expect(page.get_by_role("alert")).to_contain_text("2019 from 2019-01-01 to 2019-12-31")
            page.get_by_label("Date (optional)").fill("2019-06-01")
            page.get_by_role("button", name="Validate").click()
            expect(page.locator("#verdict")).to_have_text("Valid")

        def value_set_expansion():
            page.goto(f"{base}/console#/valueset?url={HCPCS_URL}%3Ffhir_vs")
            expect(page.locator("main[data-ready='valueset']")).to_be_attached()
            expect(page.locator("main")).to_contain_text("A9270")
            page.get_by_label("Filter").fill("syringe")
            page.get_by_role("button", name="Apply").click()
            expect(page.locator("main")).to_contain_text("1 concepts match")
            with page.expect_download() as downloading:
                page.get_by_role("button", name="Download CSV").click()
            saved = Path(downloading.value.path()).read_text()
            assert saved.splitlines()[0] == "system,version,code,display" and "A4206" in saved, saved

        def jobs_and_audit():
            go("jobs", "jobs")
            expect(page.locator("main tbody tr")).to_have_count(5)
            expect(page.locator("main")).to_contain_text("billing-2026.csv")
            go("audit", "audit")
            expect(page.locator("main")).to_contain_text("upload-job")
            expect(page.locator("main")).to_contain_text("admin@example.org")

        def corrupt_zip_dropped():
            go("upload", "upload")
            transfer = page.evaluate_handle(
                """() => {
                    const transfer = new DataTransfer();
                    const bytes = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
                    transfer.items.add(new File([bytes], "2019-Alpha-Numeric-HCPCS-File.zip", { type: "application/zip" }));
                    return transfer;
                }"""
            )
            page.locator("#drop-zone").dispatch_event("drop", {"dataTransfer": transfer})
            refusal = page.locator("#upload-outcome")
            expect(refusal).to_contain_text("The upload was refused")
            expect(refusal).to_contain_text("(400)")
            expect(refusal).to_contain_text("not a readable zip archive")

        def forms_are_labelled():
            for fragment in ("upload", "validate", "search", "browse", "valuesets", "token"):
                go(fragment, fragment)
                unlabelled = page.evaluate(
                    """() => [...document.querySelectorAll('main input, main select, main textarea')]
                        .filter(control => control.type !== 'hidden' && control.labels.length === 0 && !control.getAttribute('aria-label'))
                        .map(control => control.outerHTML)"""
                )
                assert not unlabelled, f"{fragment}: unlabelled controls {unlabelled}"

        def reader_sees_upload_disabled():
            reader = watch(context.new_page())
            use_token(reader, reader_token)
            for screen in ("upload", "jobs", "audit"):
                expect(reader.locator(f"#nav-{screen}")).to_have_attribute("aria-disabled", "true")
            expect(reader.locator("#nav-upload")).to_have_attribute("title", "needs the scope system/CodeSystem.write")
            expect(reader.locator("#nav-search")).not_to_have_attribute("aria-disabled", "true")
            reader.goto(f"{base}/console#/upload")
            expect(reader.locator("main[data-ready='upload']")).to_be_attached()
            expect(reader.locator("#upload-form fieldset")).to_have_js_property("disabled", True)
            expect(reader.get_by_role("button", name="Upload", exact=True)).to_be_disabled()
            expect(reader.locator("main")).to_contain_text("This screen needs the scope system/CodeSystem.write")
            # The admin's tab keeps its own token: sessionStorage is per tab.
            assert reader.evaluate("sessionStorage.length") == 1
            assert page.evaluate("document.cookie") == "" and page.evaluate("localStorage.length") == 0
            reader.close()

        for name, body in [
            ("billing CSV upload (first version, no diff)", first_upload),
            ("HCPCS zip upload", hcpcs_upload),
            ("billing CSV upload (second version) shows the diff", second_upload_shows_the_diff),
            ("a job that fails shows the loader's reason", failed_job),
            ("dashboard cards", dashboard),
            ("search by type-ahead and the concept page", search_and_concept_page),
            ("browse the hierarchy", browse),
            ("validate with and without a date", validate),
            ("value set expansion, filter and download", value_set_expansion),
            ("jobs and audit", jobs_and_audit),
            ("a corrupt zip dropped shows the server's reason", corrupt_zip_dropped),
            ("every form control is labelled", forms_are_labelled),
            ("a token without write scope sees upload disabled", reader_sees_upload_disabled),
        ]:
            checks.run(name, body)
        checks.run("no script error or policy violation in the page", lambda: _no_problems(page_problems))
        context.close()
    if checks.failures:
        print(f"e2e: {len(checks.failures)} of {len(checks.failures) + checks.passed} checks failed:")
        for failure in checks.failures:
            print(f"e2e:   {failure}")
        return 1
    print(f"e2e: all {checks.passed} checks passed; screenshots in {SCREENSHOTS}/")
    return 0


def _no_problems(problems):
    assert not problems, "; ".join(problems)


if __name__ == "__main__":
    main()
