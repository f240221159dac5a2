#pragma once

// Runs a built program the way a user or a script would and collects what it printed. The
// test's event loop keeps turning while it waits, so loopback servers living in the test
// process go on answering the child.

#include <QHash>
#include <QString>
#include <QStringList>

namespace edgelens::test {

struct ProcessRun
{
    int exitCode = -1; // -1 when the program crashed, could not start or timed out
    bool timedOut = false;
    QString out;
    QString err;
};

struct ProcessOptions
{
    QString workingDirectory;            // empty: the test's own
    int timeoutMs = 120000;              // then the program is killed
    QHash<QString, QString> environment; // added to (or replacing) the test's environment
};

ProcessRun runProcess(const QString &program, const QStringList &arguments, const ProcessOptions &options = {});

// A child built with the sanitizers (the `debug` preset) reports a leak or an error on its
// stderr, and a test that expects the child to fail, or stops a server with SIGTERM, would not
// notice it by the exit code. runProcess and ServerProcess fail the running test when the
// child's stderr holds such a report, printing it. Returns whether it did.
bool failOnSanitizerReport(const QString &program, const QString &stderrText);

} // namespace edgelens::test
