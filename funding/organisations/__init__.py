"""The organisation registry: who contributes (gemeenten, provincies, ministeries, waterschappen,
other public bodies, companies, individuals), their official identifiers, population, address
and billing details.

The registry is private data. It is never written to the public journal: entries name
organisations only as their pledges and payments describe them, and a page may show an
organisation only when it is public (`is_public`). Individuals are anonymous unless they say
otherwise; public bodies are public unless the registry says otherwise.
"""
