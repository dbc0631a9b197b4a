#!/usr/bin/env bash
# Starts the named local services if they are down (never restarts a running one).
# Usage: bash .ci/services.sh [postgres] [redis] [nats] [rabbitmq] [mosquitto] [mariadb]
set -uo pipefail

wait_for() { # name, check command; polls with a bounded timeout
  local name=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then echo "service $name: up"; return 0; fi
    sleep 0.5
  done
  echo "service $name: did not come up" >&2
  return 1
}

tcp() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for svc in "$@"; do
  case "$svc" in
    postgres)
      pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1 || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
      wait_for postgres pg_isready -h 127.0.0.1 -p 5432 ;;
    redis)
      redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
      wait_for redis redis-cli -h 127.0.0.1 ping ;;
    nats)
      tcp 4222 || start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
      wait_for nats tcp 4222 ;;
    rabbitmq)
      tcp 5672 || rabbitmq-server -detached
      wait_for rabbitmq tcp 5672 ;;
    mosquitto)
      tcp 1883 || mosquitto -d -c /etc/mosquitto/mosquitto.conf
      wait_for mosquitto tcp 1883 ;;
    mariadb)
      tcp 3306 || start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
      wait_for mariadb tcp 3306 ;;
    *) echo "unknown service: $svc" >&2; exit 2 ;;
  esac
done
