"""Local, seeded imitations of the APIs the connectors read, for the demo, the tests and the
benchmarks: :mod:`simulators.zendesk`, :mod:`simulators.salesforce`, :mod:`simulators.confluence`,
on one company (:mod:`simulators.world`) and one timeline (:mod:`simulators.clock`), served by
:mod:`simulators.shared`. ``python -m simulators zendesk|salesforce|confluence`` runs one."""
