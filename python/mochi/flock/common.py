# mochi.flock.common -- FlockException: pyflock_common.Exception, a RuntimeError
# whose str() is the Flock message and whose .code is the flock_return_t value.
import pyflock_common

FlockException = pyflock_common.Exception
