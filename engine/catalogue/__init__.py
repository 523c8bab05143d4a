"""The catalogue of items: what is offered (entries), deploying versions, the studio's drafts, the governance
of catalogue changes (S-9), moving running cases between versions, and the demo data."""
