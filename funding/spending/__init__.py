"""Spending: expenses recorded by a treasurer, approved by someone else (four eyes), booked and
paid through the journal, with their receipts stored once under their content hash; and
corrections of any journal entry by reversal."""
