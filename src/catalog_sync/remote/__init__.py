"""Reading what a provider holds: its listing (or, for JoggAI, the ledger's knowledge), writes a
dead run left in flight, and the records a saved plan targets."""
