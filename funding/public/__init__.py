"""Pages for everyone: the programme, the public ledger and its open-data exports."""
