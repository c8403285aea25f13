/* Re-execute from a sealed memfd copy (see exeseal.h).  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exeseal.h"
#include "util.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

#define BASE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

int
exeseal_ensure (char **argv, char **envp, struct husk_err *err)
{
  cleanup_close int self = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  cleanup_close int mfd = -1;
  struct stat st;
  int seals;

  if (self < 0)
    return husk_err_set (err, errno, "open '/proc/self/exe'");
  seals = fcntl (self, F_GET_SEALS);
  if (seals >= 0 && (seals & BASE_SEALS) == BASE_SEALS)
    return 0;

  /* MFD_EXEC (6.3+) keeps working when vm.memfd_noexec=1; older kernels reject it with EINVAL.  */
  mfd = memfd_create ("husk", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (mfd < 0 && errno == EINVAL)
    mfd = memfd_create ("husk", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0)
    return husk_err_set (err, errno, "memfd_create");
  if (fstat (self, &st) < 0)
    return husk_err_set (err, errno, "stat '/proc/self/exe'");
  for (off_t off = 0; off < st.st_size;)
    {
      ssize_t n = sendfile (mfd, self, &off, (size_t) (st.st_size - off));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return husk_err_set (err, n < 0 ? errno : EIO, "copy '/proc/self/exe'");
    }
  if (fcntl (mfd, F_ADD_SEALS, BASE_SEALS | F_SEAL_EXEC) < 0
      && (errno != EINVAL || fcntl (mfd, F_ADD_SEALS, BASE_SEALS) < 0))
    return husk_err_set (err, errno, "seal husk's memfd copy");
  fexecve (mfd, argv, envp);
  return husk_err_set (err, errno, "re-execute husk from its sealed copy");
}
