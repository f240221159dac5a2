#include "serverprocess.h"

#include "processrunner.h"
#include "testdata.h"

#include <QDeadlineTimer>
#include <QProcessEnvironment>
#include <QRegularExpression>

#include <csignal>
#include <sys/types.h>

namespace edgelens::test {

ServerProcess::~ServerProcess()
{
    stop();
}

bool ServerProcess::start(const QStringList &extra, const QHash<QString, QString> &environment)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (auto it = environment.begin(); it != environment.end(); ++it)
        env.insert(it.key(), it.value());
    m_process.setProcessEnvironment(env);
    QStringList arguments{executablePath(QStringLiteral("edgelens-server")),
                          QStringLiteral("--host"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
                          QStringLiteral("0"), QStringLiteral("--model"), QStringLiteral("nanodet-m-320"),
                          QStringLiteral("--workers"), QStringLiteral("1")};
    arguments = m_prefix + arguments + extra;
    const QString program = arguments.takeFirst();
    m_process.start(program, arguments);
    if (!m_process.waitForStarted(5000))
        return false;
    static const QRegularExpression listening(QStringLiteral("^listening on \\S+:(\\d+)$"),
                                              QRegularExpression::MultilineOption);
    QDeadlineTimer deadline(30000);
    while (!deadline.hasExpired() && m_process.state() == QProcess::Running) {
        m_process.waitForReadyRead(100);
        m_out += QString::fromUtf8(m_process.readAllStandardOutput());
        const QRegularExpressionMatch match = listening.match(m_out);
        if (match.hasMatch()) {
            m_port = quint16(match.captured(1).toUInt());
            return true;
        }
    }
    return false;
}

void ServerProcess::stop()
{
    if (m_process.state() != QProcess::NotRunning) {
        ::kill(pid_t(m_process.processId()), SIGTERM);
        if (!m_process.waitForFinished(15000))
            m_process.kill();
        m_process.waitForFinished(5000);
    }
    // Once: a leak is reported at exit, an error (the server died of it) any time before.
    if (!m_sanitizerChecked && m_process.processId() == 0 && !m_process.program().isEmpty()) {
        m_sanitizerChecked = true;
        failOnSanitizerReport(m_process.program(), log());
    }
}

void ServerProcess::kill()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_process.kill();
    m_process.waitForFinished(5000);
}

QString ServerProcess::log()
{
    m_err += QString::fromUtf8(m_process.readAllStandardError());
    return m_err;
}

QString ServerProcess::diagnostics()
{
    return m_out + log();
}

QString ServerProcess::stdoutCapture(const QString &pattern) const
{
    return QRegularExpression(pattern, QRegularExpression::MultilineOption).match(m_out).captured(1);
}

} // namespace edgelens::test
