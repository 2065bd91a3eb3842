# Scratch work, never deployed: mcpbundle.toml excludes notebooks/.
from shared_core.ledger import Ledger

ledger = Ledger()
ledger.post("Cash", "Revenue", 120)
ledger.post("Rent", "Cash", 80)
print(ledger.balances())
