#pragma once

// A live test stream on loopback (tests/support/streams/livestream.py): a real RTSP server
// (GStreamer's RTSP server through python3-gi), MJPEG over HTTP (ffmpeg -f mpjpeg -listen 1),
// or a video file; frames carry their capture time (edgelens::FrameStamp). Started by the
// test, stopped by its pid (SIGTERM, or SIGKILL for a source that dies), never left running.

#include <QProcess>
#include <QString>
#include <QStringList>

namespace edgelens::test {

class LiveStreamProcess final
{
    Q_DISABLE_COPY_MOVE(LiveStreamProcess)

public:
    LiveStreamProcess() = default;
    ~LiveStreamProcess();

    // Empty when the generator can run here (Debian's python3 with python3-gi, numpy, the
    // GStreamer RTSP server and ffmpeg); else what is missing (for EDGELENS_REQUIRE).
    static QString missingTools();
    static QString scriptPath();

    // kind "rtsp" (port 0: any), "mjpeg" (port required); extra: --size 640x360, --fps ...
    // False when it did not say READY within 20 s (diagnostics() says why).
    bool start(const QString &kind, quint16 port, const QStringList &extra = {});
    // Writes a video file (kind "file") and waits for it; false on failure.
    static bool writeFile(const QString &path, double seconds, const QStringList &extra, QString *diagnostics);

    void stop(); // SIGTERM to its pid, then waits
    void kill(); // SIGKILL: a source that vanishes
    bool isRunning() const { return m_process.state() != QProcess::NotRunning; }

    QString url() const { return m_url; }
    quint16 port() const { return m_port; }
    QString diagnostics();

private:
    QProcess m_process;
    QString m_out;
    QString m_err;
    QString m_url;
    quint16 m_port = 0;
};

} // namespace edgelens::test
