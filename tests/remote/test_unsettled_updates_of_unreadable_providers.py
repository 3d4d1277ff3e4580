"""An update whose outcome is unknown, on a provider that cannot be read (JoggAI), over real HTTP.

Found by the simulation harness (issue 17 item 12): a sheet edit sent to JoggAI whose answer was
lost left the ledger at the old value, so putting the cell back planned nothing while JoggAI held
the edit: the catalog and the provider disagreed for good, and every run said ``unchanged``.  The
fields an unsettled update sent are now marked unknown in the ledger and sent again.
"""

from __future__ import annotations

from catalog_sync.providers import get_provider
from catalog_sync.state import Ledger
from tests.support.sync import FAST, env_for, ledger_scope, products, run_cli, sandbox, write_rows

ROW = {"url": "https://shop.example.com/S/1", "name": "S-1", "description": "red"}


def test_a_jogg_update_whose_answer_was_lost_is_sent_again_when_the_sheet_goes_back(tmp_path):
    with sandbox("jogg") as sb:
        env = env_for(sb, "jogg", tmp_path)
        base = ["-p", "jogg", "--state", str(tmp_path / "s.db"), *FAST, "--yes"]
        assert run_cli(["apply", str(write_rows(tmp_path / "a.csv", [ROW])), *base], env).exit_code == 0
        sb.set_faults(lost_answer_rate=1.0, lost_answer_methods="PUT")
        edited = write_rows(tmp_path / "b.csv", [{**ROW, "description": "green"}])
        assert run_cli(["apply", str(edited), *base], env).exit_code == 4  # unknown
        assert products(sb)[0]["description"] == "green"  # it took effect; the answer was lost
        sb.set_faults(lost_answer_rate=0.0)
        back = run_cli(["apply", str(write_rows(tmp_path / "c.csv", [ROW])), *base], env)
        assert back.exit_code == 0, back.output
        assert "1 update" in back.output and products(sb)[0]["description"] == "red"
        again = run_cli(
            ["plan", str(tmp_path / "c.csv"), "-p", "jogg", "--state", str(tmp_path / "s.db")], env
        )
        assert "1 unchanged" in again.output


def test_a_jogg_update_left_in_flight_by_a_dead_run_is_sent_again(tmp_path):
    state = tmp_path / "s.db"
    with sandbox("jogg") as sb:
        env = env_for(sb, "jogg", tmp_path)
        base = ["-p", "jogg", "--state", str(state), *FAST, "--yes"]
        assert run_cli(["apply", str(write_rows(tmp_path / "a.csv", [ROW])), *base], env).exit_code == 0
        (record,) = products(sb)
        with Ledger(state) as ledger:  # what a run killed after sending its update leaves behind
            ledger.begin_intent(
                99, ledger_scope("jogg", sb.url), row=2, key="name=S-1", action="update",
                remote_id=record["product_id"], fields={"description": "green"},
            )  # fmt: skip
        client = get_provider("jogg").from_env(base_url=sb.url, env=env)
        client.update(record["product_id"], {"description": "green"})  # its request took effect
        back = run_cli(["apply", str(tmp_path / "a.csv"), *base], env)
        assert back.exit_code == 0, back.output
        assert "may or may not have taken effect" in " ".join(back.output.split())
        assert "1 update" in back.output and products(sb)[0]["description"] == "red"
