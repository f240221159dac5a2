#include "ffmpeglog.h"

#include "live/streamspec.h"

#include <QLoggingCategory>
#include <QString>

#include <cstdarg>
#include <mutex>

extern "C" {
#include <libavutil/log.h>
}

Q_LOGGING_CATEGORY(lcFfmpeg, "edgelens.live.ffmpeg", QtWarningMsg)

namespace edgelens {

namespace {

void logLine(void *context, int level, const char *format, va_list arguments)
{
    if (level > AV_LOG_WARNING)
        return; // FFmpeg's info and debug chatter
    char line[1024];
    int printPrefix = 1;
    av_log_format_line(context, level, format, arguments, line, int(sizeof line), &printPrefix);
    const QString text = StreamSpec::maskCredentials(QString::fromUtf8(line).trimmed());
    if (!text.isEmpty())
        qCInfo(lcFfmpeg).noquote() << text;
}

} // namespace

void FfmpegLog::install()
{
    static std::once_flag once;
    std::call_once(once, [] { av_log_set_callback(logLine); });
}

} // namespace edgelens
