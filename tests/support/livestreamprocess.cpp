#include "livestreamprocess.h"

#include <QDeadlineTimer>
#include <QFileInfo>
#include <QRegularExpression>
#include <QUrl>

#include <csignal>
#include <sys/types.h>

namespace edgelens::test {

namespace {

// Debian's interpreter: python3-gi and python3-numpy are installed for it, not for any other
// python3 that may come first on PATH.
const QString kPython = QStringLiteral("/usr/bin/python3");

} // namespace

LiveStreamProcess::~LiveStreamProcess()
{
    stop();
}

QString LiveStreamProcess::scriptPath()
{
    return QStringLiteral(EDGELENS_SOURCE_DIR "/tests/support/streams/livestream.py");
}

QString LiveStreamProcess::missingTools()
{
    static const QString missing = []() -> QString {
        QProcess probe;
        probe.start(kPython, {QStringLiteral("-c"),
                              QStringLiteral("import gi, numpy\n"
                                             "gi.require_version('Gst', '1.0')\n"
                                             "gi.require_version('GstRtspServer', '1.0')\n"
                                             "from gi.repository import Gst, GstRtspServer\n"
                                             "Gst.init(None)\n"
                                             "for e in ('appsrc', 'videoconvert', 'x264enc', 'rtph264pay'):\n"
                                             "    assert Gst.ElementFactory.find(e), e\n")});
        if (!probe.waitForFinished(20000) || probe.exitStatus() != QProcess::NormalExit || probe.exitCode() != 0) {
            return QStringLiteral("the live test streams need /usr/bin/python3 with python3-gi, python3-numpy, "
                                  "gir1.2-gst-rtsp-server-1.0 and gstreamer1.0-plugins-{base,good,ugly} "
                                  "(packaging/install-deps.sh): ")
                + QString::fromUtf8(probe.readAllStandardError()).trimmed().section(QLatin1Char('\n'), -1);
        }
        QProcess ffmpeg;
        ffmpeg.start(QStringLiteral("ffmpeg"), {QStringLiteral("-hide_banner"), QStringLiteral("-version")});
        if (!ffmpeg.waitForFinished(10000) || ffmpeg.exitCode() != 0)
            return QStringLiteral("the live test streams need ffmpeg (packaging/install-deps.sh)");
        return QString();
    }();
    return missing;
}

bool LiveStreamProcess::start(const QString &kind, quint16 port, const QStringList &extra)
{
    m_out.clear();
    m_err.clear();
    m_url.clear();
    m_process.start(kPython, QStringList{scriptPath(), kind, QStringLiteral("--port"), QString::number(port)} + extra);
    if (!m_process.waitForStarted(5000))
        return false;
    static const QRegularExpression ready(QStringLiteral("^READY (\\S+)$"), QRegularExpression::MultilineOption);
    QDeadlineTimer deadline(20000);
    while (!deadline.hasExpired() && m_process.state() == QProcess::Running) {
        m_process.waitForReadyRead(100);
        m_out += QString::fromUtf8(m_process.readAllStandardOutput());
        const QRegularExpressionMatch match = ready.match(m_out);
        if (match.hasMatch()) {
            m_url = match.captured(1);
            m_port = quint16(QUrl(m_url).port());
            return true;
        }
    }
    return false;
}

bool LiveStreamProcess::writeFile(const QString &path, double seconds, const QStringList &extra,
                                  QString *diagnostics)
{
    QProcess process;
    process.start(kPython, QStringList{scriptPath(), QStringLiteral("file"), QStringLiteral("--output"), path,
                                       QStringLiteral("--seconds"), QString::number(seconds)}
                               + extra);
    const bool finished = process.waitForFinished(120000);
    *diagnostics = QString::fromUtf8(process.readAllStandardOutput() + process.readAllStandardError());
    return finished && process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0
        && QFileInfo(path).size() > 0;
}

void LiveStreamProcess::stop()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    ::kill(pid_t(m_process.processId()), SIGTERM);
    if (!m_process.waitForFinished(10000))
        m_process.kill();
    m_process.waitForFinished(5000);
}

void LiveStreamProcess::kill()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_process.kill();
    m_process.waitForFinished(5000);
}

QString LiveStreamProcess::diagnostics()
{
    m_out += QString::fromUtf8(m_process.readAllStandardOutput());
    m_err += QString::fromUtf8(m_process.readAllStandardError());
    return m_out + m_err;
}

} // namespace edgelens::test
