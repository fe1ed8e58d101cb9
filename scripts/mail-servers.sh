#!/usr/bin/env bash
# Real mail servers for the email round trip, on loopback, in a temporary directory:
# `source scripts/mail-servers.sh; start_mail_servers` (as root, as CI runs), `stop_mail_servers`.
#  - Dovecot (IMAP, plain text on 127.0.0.1) serving the mailbox `support` / `secret` from a
#    Maildir the test can drop mail into;
#  - Postfix (SMTP on 127.0.0.1) that delivers mail for `customer.example` into a Maildir the
#    test reads, and relays mail for `helpdesk.example.com` by LMTP to Switchboard's listener.
# Exports SWITCHBOARD_TEST_IMAP_PORT, SWITCHBOARD_TEST_SUPPORT_MAILDIR, SWITCHBOARD_TEST_SMTP_PORT,
# SWITCHBOARD_TEST_CUSTOMER_MAILDIR and SWITCHBOARD_TEST_LMTP_PORT (where Postfix expects it).

install_mail_servers() {
  if [ ! -x /usr/sbin/dovecot ] || [ ! -x /usr/sbin/postfix ]; then
    echo "Dovecot or Postfix is missing: installing them with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq dovecot-imapd postfix >/dev/null
  fi
}

mail_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_mail_servers() {
  install_mail_servers
  MAIL_TMP=$(mktemp -d /tmp/switchboard-mail.XXXXXX)
  chmod 755 "$MAIL_TMP"
  local imap_port smtp_port lmtp_port
  imap_port=$(mail_free_port); smtp_port=$(mail_free_port); lmtp_port=$(mail_free_port)
  local vuid vgid
  vuid=$(id -u dovecot); vgid=$(id -g dovecot)

  # --- Dovecot: one user, mail owned by the dovecot user.
  mkdir -p "$MAIL_TMP/dovecot/run" "$MAIL_TMP/dovecot/state" "$MAIL_TMP/mail/support/Maildir"/{new,cur,tmp}
  chown -R "$vuid:$vgid" "$MAIL_TMP/mail"
  echo "support:{PLAIN}secret::::::" > "$MAIL_TMP/dovecot/passwd"
  cat > "$MAIL_TMP/dovecot/dovecot.conf" <<CONF
base_dir = $MAIL_TMP/dovecot/run
state_dir = $MAIL_TMP/dovecot/state
log_path = $MAIL_TMP/dovecot/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = $vuid
mail_location = maildir:$MAIL_TMP/mail/%u/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $MAIL_TMP/dovecot/passwd
}
userdb {
  driver = static
  args = uid=$vuid gid=$vgid home=$MAIL_TMP/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap_port
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
CONF
  /usr/sbin/dovecot -c "$MAIL_TMP/dovecot/dovecot.conf" </dev/null >/dev/null 2>&1

  # --- Postfix: its own instance, no chroot, logging to a file.
  local pf="$MAIL_TMP/postfix"
  mkdir -p "$pf/spool" "$pf/data" "$MAIL_TMP/customer/Maildir"
  chown "$vuid:$vgid" "$MAIL_TMP/customer" "$MAIL_TMP/customer/Maildir"
  chown postfix:postfix "$pf/data"
  cat > "$pf/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $pf/spool
data_directory = $pf/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.switchboard.test
mydomain = switchboard.test
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
maillog_file = /dev/stdout
smtputf8_enable = no
biff = no
virtual_mailbox_domains = customer.example
virtual_mailbox_base = $MAIL_TMP/customer
virtual_mailbox_maps = static:Maildir/
virtual_uid_maps = static:$vuid
virtual_gid_maps = static:$vgid
virtual_minimum_uid = 1
relay_domains = helpdesk.example.com
relay_transport = lmtp:inet:127.0.0.1:$lmtp_port
lmtp_connect_timeout = 5s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
queue_run_delay = 2s
CONF
  cat > "$pf/master.cf" <<CONF
127.0.0.1:$smtp_port inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
lmtp      unix - - n - - lmtp
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
virtual   unix - n n - - virtual
postlog   unix-dgram n - n - 1 postlogd
CONF
  # In the foreground, in the background: `postfix start` daemonises without a syslog to log
  # to, and then dies silently; this way its log is a file the test run can show.
  nohup /usr/sbin/postfix -c "$pf" start-fg </dev/null >"$pf/postfix.log" 2>&1 &

  # Bounded wait until both listen.
  local i
  for i in $(seq 1 100); do
    if (exec 3<>/dev/tcp/127.0.0.1/"$imap_port") 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/"$smtp_port") 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  export SWITCHBOARD_TEST_IMAP_PORT=$imap_port
  export SWITCHBOARD_TEST_SUPPORT_MAILDIR=$MAIL_TMP/mail/support/Maildir
  export SWITCHBOARD_TEST_SMTP_PORT=$smtp_port
  export SWITCHBOARD_TEST_CUSTOMER_MAILDIR=$MAIL_TMP/customer/Maildir
  export SWITCHBOARD_TEST_LMTP_PORT=$lmtp_port
  echo "mail servers: IMAP 127.0.0.1:$imap_port, SMTP 127.0.0.1:$smtp_port, LMTP expected on 127.0.0.1:$lmtp_port ($MAIL_TMP)" >&2
}

stop_mail_servers() {
  [ -n "${MAIL_TMP:-}" ] || return 0
  /usr/sbin/postfix -c "$MAIL_TMP/postfix" stop >/dev/null 2>&1 || true
  /usr/sbin/doveadm -c "$MAIL_TMP/dovecot/dovecot.conf" stop >/dev/null 2>&1 \
    || kill "$(cat "$MAIL_TMP/dovecot/run/master.pid" 2>/dev/null)" 2>/dev/null || true
  sleep 0.5
  rm -rf "$MAIL_TMP"
}
