"""A compiled executor for known documents: graphql-core's, minus its per-field work on plain data.

graphql-core completes a result field by field: a resolver call, a ``GraphQLResolveInfo``, an
``is_awaitable`` check and a ``complete_value`` for each, and Strawberry wraps each resolver again.
Below a root resolver our objects are plain data, so for each field of each cached document this
package compiles, once, a plan that writes that field's whole response directly (``complete.py``),
from graphql-core's own field collection (``compiler.py``), and hands anything it cannot prove plain
back to graphql-core (``executor.py``). Errors, paths and key order are graphql-core's (``run.py``).

Generic graphql-core machinery; what is plain data in a Strawberry schema is decided in
``strawberry.py``, and ``strawberry_resolvers.py`` calls Strawberry resolvers without the
per-call generality of Strawberry's wrapper: the only modules that know Strawberry.
"""

from schema.executor.executor import PLAN_CACHE_SIZE, CompiledExecution, plan_counts

__all__ = ["PLAN_CACHE_SIZE", "CompiledExecution", "plan_counts"]
