"""Leadhub as the custom CRM ("Своя CRM") Roistat pulls deals from (seed 003, and the CRM side of the
protocol as the yii2-roistat SDK implements it: ../shared/vendors/roistat-custom-crm-protocol.md).

`records` types what a project keeps, `push` stores it, `shapes` writes it as the protocol's JSON
and XML, `export` pages an export over a fixed snapshot, `page` answers Roistat's requests, and
`management` creates the page's URL, login and password.
"""
