#include "testvideos.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>

namespace edgelens::test {

namespace {

bool runTool(const QString &program, const QStringList &arguments, QByteArray *out, QString *error)
{
    QProcess process;
    process.start(program, arguments);
    if (!process.waitForStarted(10000)) {
        if (error)
            *error = program + QStringLiteral(": cannot start");
        return false;
    }
    process.closeWriteChannel();
    if (!process.waitForFinished(120000)) {
        process.kill();
        process.waitForFinished(5000);
        if (error)
            *error = program + QStringLiteral(": timed out");
        return false;
    }
    if (out)
        *out = process.readAllStandardOutput();
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        if (error)
            *error = program + QStringLiteral(" failed: ") + QString::fromLocal8Bit(process.readAllStandardError()).right(2000);
        return false;
    }
    return true;
}

bool ffmpeg(const QStringList &arguments, QString *error)
{
    QStringList all{QStringLiteral("-hide_banner"), QStringLiteral("-loglevel"), QStringLiteral("error"),
                    QStringLiteral("-y")};
    all += arguments;
    return runTool(QStringLiteral("ffmpeg"), all, nullptr, error);
}

QString sizeText(const QSize &size)
{
    return QStringLiteral("%1x%2").arg(size.width()).arg(size.height());
}

// Small, quick to decode, and what the FFmpeg behind OpenCV reads: H.264, yuv420p, moov first.
QStringList h264Out(const QString &file)
{
    return {QStringLiteral("-c:v"), QStringLiteral("libx264"), QStringLiteral("-preset"), QStringLiteral("veryfast"),
            QStringLiteral("-pix_fmt"), QStringLiteral("yuv420p"), QStringLiteral("-movflags"),
            QStringLiteral("+faststart"), file};
}

} // namespace

bool haveFfmpeg()
{
    return !QStandardPaths::findExecutable(QStringLiteral("ffmpeg")).isEmpty()
        && !QStandardPaths::findExecutable(QStringLiteral("ffprobe")).isEmpty();
}

bool makeSlideshow(const QString &file, const QStringList &images, int framesPerImage, const QSize &size, int fps,
                   QString *error)
{
    // One input per image, each looped for exactly its frames, scaled and padded to the size,
    // then concatenated: frame k shows image k / framesPerImage.
    QStringList arguments;
    QString graph;
    for (int i = 0; i < images.size(); ++i) {
        arguments += {QStringLiteral("-loop"), QStringLiteral("1"), QStringLiteral("-framerate"), QString::number(fps),
                      QStringLiteral("-i"), images.at(i)};
        graph += QStringLiteral("[%1:v]scale=%2:%3:force_original_aspect_ratio=decrease,pad=%2:%3:(ow-iw)/2:(oh-ih)/2,"
                                "setsar=1,format=yuv420p,trim=end_frame=%4,setpts=PTS-STARTPTS[v%1];")
                     .arg(i)
                     .arg(size.width())
                     .arg(size.height())
                     .arg(framesPerImage);
    }
    for (int i = 0; i < images.size(); ++i)
        graph += QStringLiteral("[v%1]").arg(i);
    graph += QStringLiteral("concat=n=%1:v=1:a=0[out]").arg(images.size());
    arguments += {QStringLiteral("-filter_complex"), graph, QStringLiteral("-map"), QStringLiteral("[out]"),
                  QStringLiteral("-r"), QString::number(fps)};
    arguments += h264Out(file);
    return ffmpeg(arguments, error);
}

bool makeVariableFrameRate(const QString &file, double seconds, int fps, int pauseAtFrame, double pauseSeconds,
                           const QSize &size, QString *error)
{
    const QString source = QStringLiteral("testsrc2=size=%1:rate=%2:duration=%3").arg(sizeText(size)).arg(fps).arg(seconds);
    // Frames after pauseAtFrame come pauseSeconds later; passthrough keeps every timestamp.
    const QString shift = QStringLiteral("setpts='if(gt(N,%1),PTS+%2/TB,PTS)'").arg(pauseAtFrame).arg(pauseSeconds);
    QStringList arguments{QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"), source,
                          QStringLiteral("-vf"), shift, QStringLiteral("-fps_mode"), QStringLiteral("passthrough"),
                          QStringLiteral("-video_track_timescale"), QStringLiteral("90000")};
    arguments += h264Out(file);
    return ffmpeg(arguments, error);
}

bool makeSceneCuts(const QString &file, int scenes, double sceneSeconds, int fps, const QSize &size, QString *error)
{
    const QStringList kinds{QStringLiteral("testsrc2"), QStringLiteral("smptebars"), QStringLiteral("mandelbrot"),
                            QStringLiteral("rgbtestsrc"), QStringLiteral("smptehdbars")};
    QStringList arguments;
    QString graph;
    for (int i = 0; i < scenes; ++i) {
        arguments += {QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
                      QStringLiteral("%1=size=%2:rate=%3")
                          .arg(kinds.at(i % kinds.size()), sizeText(size))
                          .arg(fps)};
        // Exact frame counts (mandelbrot has no duration option), one pixel format for concat.
        graph += QStringLiteral("[%1:v]trim=end_frame=%2,setpts=PTS-STARTPTS,format=yuv420p,setsar=1[v%1];")
                     .arg(i)
                     .arg(qRound(sceneSeconds * fps));
    }
    for (int i = 0; i < scenes; ++i)
        graph += QStringLiteral("[v%1]").arg(i);
    graph += QStringLiteral("concat=n=%1:v=1:a=0[out]").arg(scenes);
    arguments += {QStringLiteral("-filter_complex"), graph, QStringLiteral("-map"), QStringLiteral("[out]")};
    arguments += h264Out(file);
    return ffmpeg(arguments, error);
}

bool makePattern(const QString &file, double seconds, int fps, const QSize &size, const QStringList &encoding,
                 QString *error)
{
    QStringList arguments{QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
                          QStringLiteral("testsrc2=size=%1:rate=%2:duration=%3").arg(sizeText(size)).arg(fps).arg(seconds)};
    arguments += encoding;
    arguments += file;
    return ffmpeg(arguments, error);
}

bool setMp4Rotation90(const QString &file, QString *error)
{
    QFile f(file);
    if (!f.open(QIODevice::ReadWrite)) {
        if (error)
            *error = file + QStringLiteral(": cannot open");
        return false;
    }
    QByteArray bytes = f.readAll();
    const qsizetype box = bytes.indexOf("tkhd");
    if (box < 4 || box + 4 + 52 + 36 > bytes.size()) {
        if (error)
            *error = file + QStringLiteral(": no track header");
        return false;
    }
    // Version 0 or 1 of the box: 32- or 64-bit times before the matrix (ISO 14496-12, 8.3.2).
    const qsizetype content = box + 4;
    const qsizetype matrix = content + (bytes.at(content) == 1 ? 52 : 40);
    const qint32 values[9] = {0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000};
    for (int i = 0; i < 9; ++i) {
        const quint32 v = quint32(values[i]);
        for (int b = 0; b < 4; ++b)
            bytes[matrix + 4 * i + b] = char((v >> (24 - 8 * b)) & 0xff);
    }
    if (!f.seek(0) || f.write(bytes) != bytes.size()) {
        if (error)
            *error = file + QStringLiteral(": cannot write");
        return false;
    }
    return true;
}

bool cutCopy(const QString &source, const QString &file, double startSeconds, const QStringList &muxerOptions,
             QString *error)
{
    return ffmpeg(QStringList{QStringLiteral("-ss"), QString::number(startSeconds), QStringLiteral("-i"), source,
                              QStringLiteral("-c"), QStringLiteral("copy")}
                      + muxerOptions + QStringList{file},
                  error);
}

int probeReorderDelay(const QString &file, QString *error)
{
    QByteArray out;
    if (!runTool(QStringLiteral("ffprobe"),
                 {QStringLiteral("-v"), QStringLiteral("error"), QStringLiteral("-select_streams"), QStringLiteral("v:0"),
                  QStringLiteral("-show_entries"), QStringLiteral("stream=has_b_frames"), QStringLiteral("-of"),
                  QStringLiteral("csv=p=0"), file},
                 &out, error))
        return -1;
    return QString::fromLatin1(out).trimmed().toInt();
}

QList<QByteArray> ffmpegFramesBgr(const QString &file, const QSize &size, QString *error)
{
    QByteArray out;
    if (!runTool(QStringLiteral("ffmpeg"),
                 {QStringLiteral("-hide_banner"), QStringLiteral("-loglevel"), QStringLiteral("error"),
                  QStringLiteral("-i"), file, QStringLiteral("-map"), QStringLiteral("0:v:0"), QStringLiteral("-fps_mode"),
                  QStringLiteral("passthrough"), QStringLiteral("-f"), QStringLiteral("rawvideo"),
                  QStringLiteral("-pix_fmt"), QStringLiteral("bgr24"), QStringLiteral("-")},
                 &out, error))
        return {};
    const int frameBytes = size.width() * size.height() * 3;
    QList<QByteArray> frames;
    for (int offset = 0; frameBytes > 0 && offset + frameBytes <= out.size(); offset += frameBytes)
        frames.append(out.mid(offset, frameBytes));
    return frames;
}

bool truncateCopy(const QString &source, const QString &file, double fraction, QString *error)
{
    QFile in(source);
    if (!in.open(QIODevice::ReadOnly)) {
        if (error)
            *error = source + QStringLiteral(": cannot read");
        return false;
    }
    const QByteArray bytes = in.read(qint64(in.size() * fraction));
    QFile out(file);
    if (!out.open(QIODevice::WriteOnly) || out.write(bytes) != bytes.size()) {
        if (error)
            *error = file + QStringLiteral(": cannot write");
        return false;
    }
    return true;
}

QList<ProbedFrame> probeFrames(const QString &file, QString *error)
{
    QByteArray startText;
    if (!runTool(QStringLiteral("ffprobe"),
                 {QStringLiteral("-v"), QStringLiteral("error"), QStringLiteral("-select_streams"), QStringLiteral("v:0"),
                  QStringLiteral("-show_entries"), QStringLiteral("stream=start_time"), QStringLiteral("-of"),
                  QStringLiteral("csv=p=0"), file},
                 &startText, error))
        return {};
    const double startSeconds = QString::fromLatin1(startText).trimmed().toDouble(); // "N/A" reads as 0
    QByteArray out;
    if (!runTool(QStringLiteral("ffprobe"),
                 {QStringLiteral("-v"), QStringLiteral("error"), QStringLiteral("-select_streams"), QStringLiteral("v:0"),
                  QStringLiteral("-show_entries"), QStringLiteral("frame=best_effort_timestamp_time"),
                  QStringLiteral("-of"), QStringLiteral("csv=p=0"), file},
                 &out, error))
        return {};
    QList<ProbedFrame> frames;
    for (const QByteArray &line : out.split('\n')) {
        const QString text = QString::fromLatin1(line).trimmed().section(QLatin1Char(','), 0, 0);
        if (text.isEmpty())
            continue;
        ProbedFrame frame;
        frame.index = frames.size();
        // "N/A": the decoder gave the frame no time (the last frames of an AVI with B-frames).
        frame.timestampMs = text == QLatin1String("N/A") ? -1 : (text.toDouble() - startSeconds) * 1000.0;
        frames.append(frame);
    }
    return frames;
}

} // namespace edgelens::test
