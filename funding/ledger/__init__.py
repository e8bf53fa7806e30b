"""The double-entry journal: append-only, hash-chained, the one record of every euro."""
