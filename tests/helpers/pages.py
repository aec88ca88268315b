"""Page objects for Chromium: what a person does on the wizard's pages, one method per step, each checking the page it
lands on (axe by default; the layout test adds that nothing is wider than the screen)."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page

from .browser import assert_axe_clean

Check = Callable[[Page, str], None]


class DataflowWalkPage:
    """From a table to a created dataflow, then its page (runs, retry, disable) and the deletion of its connection.

    `check(page, where)` runs on each page a step lands on (`where` names it); the tests assert the rest themselves.
    """

    def __init__(self, page: Page, base_url: str, check: Check = assert_axe_clean) -> None:
        self.page, self.base_url, self._check = page, base_url, check

    def check(self, where: str) -> None:
        self._check(self.page, where)

    # Creating the dataflow.

    def open_table(self, connection_id: str, table: str = "public.customers") -> None:
        """The explore page of one table of the connection (its columns, and the button that starts a dataflow)."""
        self.page.goto(f"{self.base_url}/connections/{connection_id}/explore?sandbox=prod&table={table}")

    def start_dataflow(self, *, check: bool = True) -> None:
        """Create a dataflow from the open table: the dataset step."""
        self.page.get_by_role("button", name="Create a dataflow from this table").click()
        self.page.wait_for_url("**/dataset")
        if check:
            self.check("choosing the dataset")

    def show_fields(self, dataset: str = "Loyalty members") -> None:
        """Show the fields of a dataset's schema on the dataset step."""
        self.page.get_by_role("link", name=f"Show its fields of {dataset}").click()
        self.page.locator('tr[id^="schema-"]').wait_for()  # the schema's fields, under the dataset's row
        self.check("choosing the dataset, a schema's fields shown")

    def choose_dataset(self, dataset: str = "Loyalty members") -> None:
        """Choose the dataset and go on: the mapping step."""
        self.page.get_by_label(dataset).check()
        self.page.get_by_role("button", name="Use this dataset").click()
        self.page.wait_for_url("**/mapping")
        self.check("mapping the columns")

    def map_constant(self, field: str, value: str, *, refused: bool = False) -> None:
        """Fill the first constant (a field of the schema and its value) and send the mapping to Data Prep: refused,
        the mapping again with its errors; otherwise the schedule step."""
        if not self.page.get_by_label("Constant 1: field").count():
            self.page.get_by_role("button", name="Add a constant").click()  # constants are added one by one
        self.page.get_by_label("Constant 1: field").fill(field)
        self.page.get_by_label("Constant 1: value").fill(value)
        self.page.get_by_role("button", name="Check with Data Prep and continue").click()
        if refused:
            self.page.wait_for_selector("#error-summary")
            self.check("the mapping Data Prep refused")
        else:
            self.page.wait_for_url("**/schedule")
            self.check("the schedule")

    def schedule(
        self,
        *,
        name: str | None = None,
        every_minutes: str | None = None,
        first_run: str | None = None,
        time_zone: str | None = None,
        refused: bool = False,
    ) -> None:
        """Fill what is given of the schedule and ask for the review: refused, the schedule with its errors;
        otherwise the review, with every request it will send."""
        if name is not None:
            self.page.get_by_label("Dataflow name").fill(name)
        if every_minutes is not None:
            self.page.get_by_label("Every N minutes").check()
            self.page.get_by_label("Every N", exact=True).fill(every_minutes)
        if first_run is not None:
            self.page.get_by_label("First run").fill(first_run)
        if time_zone is not None:
            self.page.get_by_label("Time zone").select_option(time_zone)
        self.page.get_by_role("button", name="Review").click()
        if refused:
            self.page.wait_for_selector("#error-summary")
            self.check("the schedule in error")
        else:
            self.page.wait_for_url("**/review")
            self.check("the review with every request")

    def create(self, *, by_keyboard: bool = False, stopped: bool = False) -> str | None:
        """Press "Create dataflow" (with Enter on the focused button `by_keyboard`): the new dataflow's id, its page
        open; or, when Adobe refuses a step (`stopped`), None and the review saying what was made."""
        button = self.page.get_by_role("button", name="Create dataflow")
        if by_keyboard:
            button.focus()
            self.page.keyboard.press("Enter")
        else:
            button.click()
        if stopped:
            self.page.wait_for_selector("#chain-stopped")
            self.check("a stopped chain, with what was made")
            return None
        self.page.wait_for_url("**/dataflows/*?sandbox=prod")
        return self.page.url.split("/dataflows/")[1].split("?")[0]

    # The dataflow's page.

    def open_dataflow_from_connection(self, connection_id: str, dataflow: str, flow_id: str) -> None:
        """The connection's page, then the dataflow named there."""
        self.page.goto(f"{self.base_url}/connections/{connection_id}?sandbox=prod")
        self.page.get_by_role("link", name=dataflow).click()
        self.page.wait_for_url(f"**/dataflows/{flow_id}?sandbox=prod")

    def run_shown(self, status: str) -> bool:
        """Whether the dataflow page's runs show one with `status` (Failed, Succeeded…)."""
        return self.page.locator("#runs").get_by_text(status, exact=True).is_visible()

    def state(self) -> str:
        """The dataflow's state as its page shows it (enabled, disabled)."""
        return self.page.locator("#flow-state").inner_text()

    def retry_run(self) -> None:
        """Retry the failed run; the page names the new one."""
        self.check("the dataflow page with a failed run")
        self.page.get_by_role("button", name="Retry run").click()
        self.page.wait_for_selector("text=Retried: the new run is")

    def disable(self, dataflow: str, *, by_keyboard: bool = False) -> None:
        """Disable the dataflow (with Enter on the focused button `by_keyboard`); the page says so."""
        button = self.page.get_by_role("button", name="Disable dataflow")
        if by_keyboard:
            button.focus()
            self.page.keyboard.press("Enter")
        else:
            button.click()
        self.page.wait_for_selector(f"text=Disabled: {dataflow}.")

    # Deleting the connection, and all made from it.

    def to_delete_page(self) -> None:
        """From the dataflow's page to its connection, then to the connection's delete page (what it deletes)."""
        self.page.locator(".crumbs a").last.click()  # the crumb names the connection
        self.page.get_by_role("link", name="Delete").click()
        self.page.get_by_label("Type the connection's name to confirm").wait_for()
        self.check("the delete page listing what is made from the connection")

    def delete_connection(self, name: str) -> None:
        """Confirm with the connection's name and delete it with all made from it; the page says so."""
        self.page.get_by_label("Type the connection's name to confirm").fill(name)
        self.page.get_by_role("button", name="Delete connection and all made from it").click()
        self.page.wait_for_selector(f"text=Deleted: {name}.")
