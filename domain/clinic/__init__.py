"""The clinic: who bills and who furnishes, as recorded facts (decision 0010).

Its identity (the billing provider, each rendering provider, the referring and
certifying physicians' NPIs) is not a fact of any one episode: it is the
`Clinic` aggregate's, one per store, stored with the episodes' events, with
author and recorded time, so a changed NPI is a new fact and the old one is what
the record said before it.
"""
