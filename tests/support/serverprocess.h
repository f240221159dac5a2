#pragma once

// build/bin/edgelens-server in its own process, as a user or a script runs it: started with
// the test's arguments, ready once it printed "listening on HOST:PORT", its stdout and log
// (stderr) collected for assertions, stopped with SIGTERM (or killed) at the end.

#include <QHash>
#include <QProcess>
#include <QString>
#include <QStringList>

namespace edgelens::test {

class ServerProcess final
{
    Q_DISABLE_COPY_MOVE(ServerProcess)

public:
    ServerProcess() = default;
    ~ServerProcess();

    // 127.0.0.1, an ephemeral port, one worker of nanodet-m-320, then `extra`. False when it
    // did not get to listening within 30 s (diagnostics() says why).
    bool start(const QStringList &extra, const QHash<QString, QString> &environment = {});
    // Runs the server through this command first, e.g. {"nsenter", "-t", PID, "-n", "-m", "--"}
    // to start it in another network namespace. The command must exec the server (same pid).
    void setCommandPrefix(const QStringList &prefix) { m_prefix = prefix; }
    void stop(); // SIGTERM, then waits; fails the test on a sanitizer report in its log
    void kill(); // SIGKILL: a device that dies

    quint16 port() const { return m_port; }
    qint64 pid() const { return m_process.processId(); } // 0 when not running
    QString out() const { return m_out; }
    QString log(); // stderr so far
    QString diagnostics();
    // The first capture of `pattern` (multi-line) in stdout, empty when absent.
    QString stdoutCapture(const QString &pattern) const;

private:
    QProcess m_process;
    QStringList m_prefix;
    QString m_out;
    QString m_err;
    quint16 m_port = 0;
    bool m_sanitizerChecked = false;
};

} // namespace edgelens::test
