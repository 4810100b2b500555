/** The `segdl --help` text. */
export const USAGE = `Usage:
  segdl <url> [options]              download a file with many connections, resumably
  segdl <url> <url>... [options]     download many files, a few at a time
  segdl -i FILE [options]            download the URLs listed in FILE (aria2's format; - for stdin)
  segdl serve <file|dir> [options]   run a local range server (with fault injection)
  segdl daemon [options]             serve aria2's JSON-RPC for aria2 clients (see daemon --help)
  segdl hash FILE...                 print each file's xxh64blocks digest (what a download reports)

Download options:
  -o, --output FILE        where to save (default: name from the server or the URL,
                           or "download" when neither names a file: a URL ending in /)
                           -o - streams the file to stdout, in order, over all connections,
                           in bounded memory; a stream cannot resume (a failed run starts over),
                           and takes no --json, --dir or --durability power
  -d, --dir DIR            save in DIR (created if missing); names never leave it
  -c, --connections N      connections per file, 1-64 (default 8); also the cap per host
      --checksum ALGO:HEX  verify against sha256/sha512/sha1/md5/xxh64 before the final rename
      --checksum-file F    verify each file against its entry in F (a path or a URL):
                           sha256sum/sha512sum/sha1sum/md5sum output or BSD "SHA256 (name) = hex"
  -H, --header "K: V"      extra request header (repeatable)
  -U, --user-agent UA      User-Agent to send (default segdl/VERSION)
      --netrc              take credentials for the host from ~/.netrc (as curl does)
      --netrc-file FILE    the same from FILE
      --proxy URL          use this proxy: http://, https://, socks5:// or socks5h://
                           [user:password@]host:port (default: http_proxy, https_proxy,
                           ALL_PROXY and NO_PROXY from the environment)
      --no-proxy           ignore the proxy environment variables
      --connect-timeout S  give up on a connection (or a proxy tunnel) after S seconds (default 10)
      --retries N          retries per segment after a failure (default 5)
      --stall-timeout MS   restart a connection slower than --min-speed over MS (default 10000)
      --min-speed RATE     least bytes/s a connection must average (default 1K)
      --max-speed RATE     cap each download at RATE bytes/s, e.g. 5M
      --mirror URL         another URL of the same file (repeatable; one URL only)
      --adaptive           add connections only while they raise throughput
      --block-private      refuse loopback/private/link-local addresses (after DNS)
      --ca FILE            trust this PEM certificate (self-signed or private CA)
      --fail-if-changed    fail with ERR_REMOTE_CHANGED instead of starting over
      --min-split SIZE     smallest piece to split off (default 256K)
      --durability MODE    process (default) or power (fsync every checkpoint)
      --max-size SIZE      refuse files larger than SIZE
  -f, --force              overwrite an existing file at the output path
  -q, --quiet              print errors only
      --json               print one JSON object per event, then the result (or a summary)
      --debug              print stack traces on errors
  -h, --help               show this help
  -v, --version            print the version

Many files (several URLs, or -i):
  -i, --input-file FILE    one URL per line; TAB-separated URLs on a line are mirrors of one
                           file; indented lines set options for the URL above: out=NAME,
                           dir=DIR, checksum=sha-256=HEX, header=K: V, max-download-limit=RATE,
                           split=N, user-agent=UA, referer=URL, allow-overwrite=true
  -j, --jobs N             files downloading at once (default 5)
      --max-connections N  connections across all files (default 16)

Exit codes: 0 done and verified (every file), 1 failed (any file), 2 usage error,
            3 checksum mismatch (one URL), 4 the reader of stdout went away (-o -, e.g.
            | head), 130 interrupted (SIGINT), 143 terminated (SIGTERM). The same command
            again resumes where the last run stopped (except -o -).

Sizes and rates take K, M, G, T suffixes (binary: 1.5G = 1.5 × 2^30).

Examples:
  segdl https://example.com/big.iso                          # 8 connections, name from the server
  segdl -c 16 -o disk.img --checksum sha256:<hex> URL        # verified before it gets its name
  segdl URL                                                  # again after Ctrl-C, kill -9, a crash: resumes
  segdl -H "Authorization: Bearer $TOKEN" --max-speed 20M URL
  segdl --mirror https://mirror2.example/big.iso URL         # mix two servers, drop a bad one
  segdl -d isos -j 3 URL1 URL2 URL3 URL4                     # four files, three at a time, into isos/
  segdl -i urls.txt -d downloads                             # a list as aria2c -i reads it
  printf '%s\\n' URL1 URL2 | segdl -i - -d downloads          # the list on stdin
  segdl --checksum-file https://example.com/SHA256SUMS https://example.com/big.iso
  HTTPS_PROXY=http://proxy:3128 NO_PROXY=.internal segdl URL # the usual proxy variables
  segdl --proxy socks5h://127.0.0.1:1080 URL                 # or a proxy of your own
  segdl --netrc https://files.example.com/private.tar        # Basic auth from ~/.netrc
  segdl --json URL | jq -c 'select(.event == "result")'      # machine-readable events
  segdl serve ./files --rate 8M --slow-every 4 --slow-rate 1M   # a local test server with stragglers
`;
