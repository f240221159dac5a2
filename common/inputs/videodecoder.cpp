#include "videodecoder.h"

#include <QFile>
#include <QLoggingCategory>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

Q_LOGGING_CATEGORY(lcVideoDecoder, "edgelens.inputs.videodecoder", QtInfoMsg)

namespace edgelens {

struct VideoDecoder::Slot
{
    ~Slot() { av_packet_free(&packet); }
    AVPacket *packet = nullptr;
    qint64 pts = 0;
    qint64 index = -1;
    double timestampMs = -1;
    bool numbered = false;  // its place in presentation order is known (or it has none)
    bool shown = true;      // false: decoded for reference only, never handed out
    bool wanted = true;
};

namespace {

QString avError(int code)
{
    char text[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(code, text, sizeof text);
    return QString::fromUtf8(text);
}

qint64 framePts(const AVFrame *frame)
{
    return frame->pts != AV_NOPTS_VALUE ? frame->pts : frame->best_effort_timestamp;
}

QString codecText(const AVCodecParameters *parameters)
{
    const quint32 tag = parameters->codec_tag;
    QString fourcc;
    for (int i = 0; i < 4; ++i) {
        const char c = char((tag >> (8 * i)) & 0xff);
        if (c <= 32 || c >= 127)
            return QString::fromLatin1(avcodec_get_name(parameters->codec_id));
        fourcc.append(QLatin1Char(c));
    }
    return fourcc;
}

// Clockwise degrees that stand the picture upright, as ffmpeg's own autorotation reads the
// display matrix (what players and ffmpeg show; flips are not applied, as ffmpeg 5.1 does not).
int uprightRotation(const AVStream *stream)
{
    const uint8_t *matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, nullptr);
    if (!matrix)
        return 0;
    double theta = -std::round(av_display_rotation_get(reinterpret_cast<const int32_t *>(matrix)));
    if (std::isnan(theta))
        return 0;
    theta -= 360 * std::floor(theta / 360 + 0.9 / 360);
    const int degrees = int(std::lround(theta / 90.0)) * 90 % 360;
    return degrees;
}

} // namespace

VideoDecoder::VideoDecoder(const QString &path)
    : m_path(path)
{
}

VideoDecoder::~VideoDecoder()
{
    close();
}

bool VideoDecoder::open(QString *error)
{
    close();
    const auto fail = [&](const QString &why) {
        close();
        if (error)
            *error = QStringLiteral("%1: cannot be opened as a video (%2)").arg(m_path, why);
        return false;
    };
    int ret = avformat_open_input(&m_format, QFile::encodeName(m_path).constData(), nullptr, nullptr);
    if (ret < 0) {
        m_format = nullptr;
        return fail(QStringLiteral("not a video, or a damaged or truncated file whose index is missing: %1")
                        .arg(avError(ret)));
    }
    ret = avformat_find_stream_info(m_format, nullptr);
    if (ret < 0)
        return fail(QStringLiteral("no stream could be read: %1").arg(avError(ret)));
    const AVCodec *decoder = nullptr;
    m_stream = av_find_best_stream(m_format, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
    if (m_stream == AVERROR_DECODER_NOT_FOUND)
        return fail(QStringLiteral("FFmpeg has no decoder for its video"));
    if (m_stream < 0)
        return fail(QStringLiteral("no video stream"));
    for (unsigned i = 0; i < m_format->nb_streams; ++i) {
        if (int(i) != m_stream)
            m_format->streams[i]->discard = AVDISCARD_ALL; // not even demuxed into packets
    }
    AVStream *stream = m_format->streams[m_stream];
    m_codec = avcodec_alloc_context3(decoder);
    if (!m_codec || avcodec_parameters_to_context(m_codec, stream->codecpar) < 0)
        return fail(QStringLiteral("no decoder context"));
    m_codec->pkt_timebase = stream->time_base;
    // One thread: skip_frame then applies to exactly the packet sent next. The processing
    // loop runs beside the decoding anyway, so a second decoding thread would only compete.
    m_codec->thread_count = 1;
    ret = avcodec_open2(m_codec, decoder, nullptr);
    if (ret < 0)
        return fail(QStringLiteral("the %1 decoder refused it: %2").arg(QString::fromLatin1(decoder->name), avError(ret)));
    m_packet = av_packet_alloc();
    m_frame = av_frame_alloc();
    m_current = av_frame_alloc();
    if (!m_packet || !m_frame || !m_current)
        return fail(QStringLiteral("out of memory"));

    const AVCodecDescriptor *descriptor = avcodec_descriptor_get(stream->codecpar->codec_id);
    m_intraOnly = descriptor && (descriptor->props & AV_CODEC_PROP_INTRA_ONLY);
    m_timeBase = av_q2d(stream->time_base);
    m_startPts = stream->start_time != AV_NOPTS_VALUE ? stream->start_time : 0;
    m_info = Info();
    m_info.rotation = uprightRotation(stream);
    const int width = stream->codecpar->width;
    const int height = stream->codecpar->height;
    if (width <= 0 || height <= 0)
        return fail(QStringLiteral("the video has no picture size"));
    m_info.size = m_info.rotation % 180 ? QSize(height, width) : QSize(width, height);
    m_info.fps = av_q2d(stream->avg_frame_rate);
    if (!(m_info.fps > 0))
        m_info.fps = av_q2d(av_guess_frame_rate(m_format, stream, nullptr));
    if (!std::isfinite(m_info.fps) || m_info.fps < 0)
        m_info.fps = 0;
    if (stream->nb_frames > 0) {
        m_info.frameCount = stream->nb_frames;
    } else if (m_info.fps > 0) {
        double seconds = -1;
        if (m_format->duration != AV_NOPTS_VALUE && m_format->duration > 0)
            seconds = double(m_format->duration) / AV_TIME_BASE;
        else if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0)
            seconds = stream->duration * m_timeBase;
        if (seconds > 0)
            m_info.frameCount = qint64(std::floor(seconds * m_info.fps + 0.5));
    }
    m_info.codec = codecText(stream->codecpar);
    qCDebug(lcVideoDecoder) << "opened" << m_path << m_info.size << m_info.fps << "fps" << m_info.frameCount << "frames"
                            << m_info.codec << "rotation" << m_info.rotation << "intra-only" << m_intraOnly;
    return true;
}

void VideoDecoder::close()
{
    m_decodeOrder.clear();
    m_unnumbered.clear();
    m_presentation.clear();
    sws_freeContext(m_bgrScaler);
    m_bgrScaler = nullptr;
    m_scalerFormat = -1;
    av_frame_free(&m_frame);
    av_frame_free(&m_current);
    av_packet_free(&m_packet);
    avcodec_free_context(&m_codec);
    avformat_close_input(&m_format);
    m_frameHeld = false;
    m_currentValid = false;
    m_stream = -1;
    m_mode = Mode::Undecided;
    m_nextIndex = 0;
    m_lastNumberedPts = 0;
    m_anyNumbered = false;
    m_demuxEnded = false;
    m_flushSent = false;
    m_decoderDrained = false;
    m_firstShownKnown = false;
    m_decodeErrors = 0;
    m_counters = Counters();
}

double VideoDecoder::toMs(qint64 pts) const
{
    return double(pts - m_startPts) * m_timeBase * 1000.0;
}

bool VideoDecoder::readPacket(QString *error)
{
    for (;;) {
        const int ret = av_read_frame(m_format, m_packet);
        if (ret < 0) {
            m_demuxEnded = true;
            // The caller finds out from the frame count whether the file ended early.
            if (ret != AVERROR_EOF)
                qCInfo(lcVideoDecoder).noquote() << m_path << "stopped reading:" << avError(ret);
            if (m_mode == Mode::Undecided)
                decideMode();
            else if (m_mode == Mode::ByPackets)
                releaseHeld(true);
            return false;
        }
        if (m_packet->stream_index != m_stream) {
            av_packet_unref(m_packet);
            continue;
        }
        break;
    }
    auto slot = std::make_shared<Slot>();
    slot->packet = av_packet_alloc();
    if (!slot->packet) {
        if (error)
            *error = QStringLiteral("%1: out of memory").arg(m_path);
        av_packet_unref(m_packet);
        return false;
    }
    av_packet_move_ref(slot->packet, m_packet);
    slot->pts = slot->packet->pts;
    m_decodeOrder.push_back(slot);
    m_counters.mostPacketsQueued = std::max(m_counters.mostPacketsQueued, qint64(m_decodeOrder.size()));
    switch (m_mode) {
    case Mode::Undecided:
        if (m_decodeOrder.size() >= std::size_t(kReorderWindow))
            decideMode();
        break;
    case Mode::ByPackets:
        assign(slot);
        releaseHeld(false);
        break;
    case Mode::ByFrames:
        slot->numbered = true;
        break;
    }
    return true;
}

namespace {

// Codecs whose packets each carry exactly one frame that is shown, as libavformat hands them
// out (VP9 packs its hidden frames with a shown one; H.264 and HEVC in these containers carry
// whole frames). Elsewhere a packet may hold a frame that is never shown (VP8's alternate
// reference in some files) or half a frame, and numbering packets would number frames wrongly.
bool oneShownFramePerPacket(const AVCodecParameters *parameters)
{
    if (parameters->field_order != AV_FIELD_UNKNOWN && parameters->field_order != AV_FIELD_PROGRESSIVE)
        return false; // interlaced: fields may come as packets of their own
    switch (parameters->codec_id) {
    case AV_CODEC_ID_H264:
    case AV_CODEC_ID_HEVC:
    case AV_CODEC_ID_VP9:
    case AV_CODEC_ID_AV1:
    case AV_CODEC_ID_MJPEG:
        return true;
    default:
        return false;
    }
}

} // namespace

void VideoDecoder::decideMode()
{
    bool timed = !(m_format->iformat->flags & AVFMT_NOTIMESTAMPS) && !m_decodeOrder.empty()
        && oneShownFramePerPacket(m_format->streams[m_stream]->codecpar);
    for (const SlotPtr &slot : m_decodeOrder) {
        if (slot->pts == AV_NOPTS_VALUE && !(slot->packet->flags & AV_PKT_FLAG_DISCARD))
            timed = false;
    }
    m_mode = timed ? Mode::ByPackets : Mode::ByFrames;
    m_info.timedByPackets = timed;
    if (!timed)
        qCInfo(lcVideoDecoder).noquote() << m_path << "is decoded frame by frame (its packets carry no presentation "
                                                      "times, or may not each carry one shown frame)";
    for (const SlotPtr &slot : m_decodeOrder) {
        if (timed)
            assign(slot);
        else
            slot->numbered = true;
    }
    if (timed)
        releaseHeld(m_demuxEnded);
}

void VideoDecoder::assign(const SlotPtr &slot)
{
    // A packet the container marks as before the start (an edit list's lead-in): decoded
    // because later frames may refer to it, never shown (the decoder drops it too).
    if (slot->packet->flags & AV_PKT_FLAG_DISCARD) {
        slot->numbered = true;
        slot->shown = false;
        ++m_counters.framesNeverShown;
        return;
    }
    if (slot->pts == AV_NOPTS_VALUE) {
        // Rare in a container that times its packets: take the decode time when frames are
        // not reordered, else place it after everything read so far.
        const bool reordered = m_codec->has_b_frames > 0;
        if (slot->packet->dts != AV_NOPTS_VALUE && !reordered)
            slot->pts = slot->packet->dts;
        else
            slot->pts = (m_unnumbered.empty() ? m_lastNumberedPts : m_unnumbered.rbegin()->first) + 1;
        qCInfo(lcVideoDecoder).noquote() << m_path << "has a packet without presentation time; placed at" << slot->pts;
    }
    if (m_anyNumbered && slot->pts <= m_lastNumberedPts) {
        // Earlier than a frame already numbered: reordered further than any codec allows, or
        // a repeated time. Decoded (it may be referred to), not shown.
        qCWarning(lcVideoDecoder).noquote() << m_path << "has a frame at" << toMs(slot->pts)
                                            << "ms that comes out of order; it is skipped";
        slot->numbered = true;
        slot->shown = false;
        ++m_counters.framesNeverShown;
        return;
    }
    m_unnumbered.emplace(slot->pts, slot);
}

void VideoDecoder::releaseHeld(bool all)
{
    if (!m_firstShownKnown)
        return; // which of the first packets the decoder shows is not known yet
    while (!m_unnumbered.empty() && (all || m_unnumbered.size() > std::size_t(kReorderWindow))) {
        const auto first = m_unnumbered.begin();
        const SlotPtr slot = first->second;
        m_unnumbered.erase(first);
        slot->index = m_nextIndex++;
        slot->timestampMs = toMs(slot->pts);
        slot->wanted = !m_filter || m_filter(slot->index, slot->timestampMs);
        slot->numbered = true;
        m_lastNumberedPts = slot->pts;
        m_anyNumbered = true;
        m_presentation.push_back(slot);
    }
}

bool VideoDecoder::sendNext(QString *error)
{
    for (;;) {
        if (!m_decodeOrder.empty()) {
            const SlotPtr slot = m_decodeOrder.front();
            if (!slot->numbered && m_firstShownKnown) {
                // Its number (and so whether anyone wants it) is known once enough packets are read.
                if (!readPacket(error) && !m_demuxEnded)
                    return false;
                continue;
            }
            m_decodeOrder.pop_front();
            const bool wanted = slot->wanted && slot->shown;
            if (!wanted && m_intraOnly)
                continue; // no other frame refers to it
            m_codec->skip_frame = wanted || !slot->shown ? AVDISCARD_DEFAULT : AVDISCARD_NONREF;
            const int ret = avcodec_send_packet(m_codec, slot->packet);
            if (ret == AVERROR(EAGAIN)) {
                m_decodeOrder.push_front(slot); // output first; sent on the next call
                return true;
            }
            av_packet_unref(slot->packet);
            ++m_counters.packetsSent;
            if (ret < 0) {
                ++m_decodeErrors;
                qCInfo(lcVideoDecoder).noquote() << m_path << "has a packet the decoder refused:" << avError(ret);
            }
            return true;
        }
        if (!m_demuxEnded) {
            if (!readPacket(error) && !m_demuxEnded)
                return false;
            continue;
        }
        if (!m_flushSent) {
            m_codec->skip_frame = AVDISCARD_DEFAULT;
            avcodec_send_packet(m_codec, nullptr); // drain the frames the decoder still holds
            m_flushSent = true;
            return true;
        }
        return false;
    }
}

VideoDecoder::Pull VideoDecoder::pullFrame(QString *error)
{
    if (m_frameHeld)
        return Pull::Got;
    if (m_decoderDrained)
        return Pull::Drained;
    const int ret = avcodec_receive_frame(m_codec, m_frame);
    if (ret == 0) {
        m_frameHeld = true;
        ++m_counters.framesDecoded;
        if (!m_firstShownKnown)
            firstShown(framePts(m_frame));
        return Pull::Got;
    }
    if (ret == AVERROR(EAGAIN)) {
        if (sendNext(error))
            return Pull::NeedInput;
        if (error && !error->isEmpty())
            return Pull::Failed;
        m_decoderDrained = true; // nothing more to give it
        return Pull::Drained;
    }
    if (ret == AVERROR_EOF) {
        m_decoderDrained = true;
        return Pull::Drained;
    }
    // A damaged frame: the decoder goes on with the next packet.
    ++m_decodeErrors;
    qCInfo(lcVideoDecoder).noquote() << m_path << "has a frame the decoder could not decode:" << avError(ret);
    if (m_decodeErrors > 1000) {
        if (error)
            *error = QStringLiteral("%1: too many frames could not be decoded (%2): the file is damaged")
                         .arg(m_path, avError(ret));
        return Pull::Failed;
    }
    return Pull::NeedInput;
}

VideoDecoder::Result VideoDecoder::next(Frame *frame, QString *error)
{
    if (!m_format) {
        if (error)
            *error = QStringLiteral("%1: not open").arg(m_path);
        return Result::Error;
    }
    m_currentValid = false;
    while (m_mode == Mode::Undecided) {
        if (!readPacket(error) && !m_demuxEnded)
            return Result::Error;
    }
    return m_mode == Mode::ByPackets ? nextByPackets(frame, error) : nextByFrames(frame, error);
}

void VideoDecoder::firstShown(qint64 pts)
{
    // A stream that starts inside an open group of pictures (cut without re-encoding) begins
    // with frames referring to what was cut away: the decoder drops them, so they are no
    // frames of this video. Everything before the first frame it shows is one of them.
    m_firstShownKnown = true;
    while (!m_unnumbered.empty() && m_unnumbered.begin()->first < pts) {
        const SlotPtr slot = m_unnumbered.begin()->second;
        m_unnumbered.erase(m_unnumbered.begin());
        slot->numbered = true;
        slot->shown = false;
        ++m_counters.framesNeverShown;
    }
    releaseHeld(m_demuxEnded);
}

VideoDecoder::Result VideoDecoder::nextByPackets(Frame *frame, QString *error)
{
    for (;;) {
        if (!m_firstShownKnown) {
            // Until the decoder shows its first frame, every packet is decoded.
            const Pull pull = pullFrame(error);
            if (pull == Pull::Failed)
                return Result::Error;
            if (pull == Pull::Drained)
                firstShown(std::numeric_limits<qint64>::max()); // it showed nothing
            continue;
        }
        if (m_presentation.empty()) {
            if (m_demuxEnded && m_unnumbered.empty())
                return Result::End;
            if (!readPacket(error) && !m_demuxEnded)
                return Result::Error;
            continue;
        }
        const SlotPtr slot = m_presentation.front();
        if (slot->wanted) {
            const Pull pull = pullFrame(error);
            if (pull == Pull::Failed)
                return Result::Error;
            if (pull == Pull::NeedInput)
                continue;
            if (pull == Pull::Got) {
                const qint64 pts = framePts(m_frame);
                if (pts < slot->pts || (m_frame->flags & AV_FRAME_FLAG_DISCARD)) {
                    av_frame_unref(m_frame); // a frame handed out already, or one never shown
                    m_frameHeld = false;
                    continue;
                }
                if (pts == slot->pts) {
                    av_frame_unref(m_current);
                    av_frame_move_ref(m_current, m_frame);
                    m_frameHeld = false;
                    m_currentValid = true;
                    m_presentation.pop_front();
                    frame->index = slot->index;
                    frame->timestampMs = slot->timestampMs;
                    frame->timed = true;
                    frame->hasPicture = true;
                    return Result::Frame;
                }
            }
            // The decoder went past this frame's time, or has nothing more: it was damaged.
            // Not handed out, so the numbers of the frames around it stay theirs.
            ++m_counters.framesLost;
            qCInfo(lcVideoDecoder).noquote() << m_path << "frame" << slot->index << "at" << slot->timestampMs
                                             << "ms could not be decoded";
            m_presentation.pop_front();
            continue;
        }
        // Nobody wants it. The decoder still gets the packets read so far, so a long stretch
        // of frames nobody keeps (a late --from) does not pile up packets.
        if (!drainQueued(slot->pts, error))
            return Result::Error;
        m_presentation.pop_front();
        ++m_counters.framesSkipped;
        frame->index = slot->index;
        frame->timestampMs = slot->timestampMs;
        frame->timed = true;
        frame->hasPicture = false;
        return Result::Frame;
    }
}

bool VideoDecoder::drainQueued(qint64 handedOutPts, QString *error)
{
    while (m_decodeOrder.size() > std::size_t(kMaxQueued) && !m_decoderDrained) {
        if (m_frameHeld) {
            const qint64 pts = framePts(m_frame);
            if (pts > handedOutPts)
                return true; // a frame still to come (perhaps wanted): it waits for its turn
            av_frame_unref(m_frame);
            m_frameHeld = false;
            continue;
        }
        if (pullFrame(error) == Pull::Failed)
            return false;
    }
    return true;
}

VideoDecoder::Result VideoDecoder::nextByFrames(Frame *frame, QString *error)
{
    for (;;) {
        const Pull pull = pullFrame(error);
        if (pull == Pull::Failed)
            return Result::Error;
        if (pull == Pull::NeedInput)
            continue;
        if (pull == Pull::Drained)
            return Result::End;
        const qint64 pts = m_frame->best_effort_timestamp;
        av_frame_unref(m_current);
        av_frame_move_ref(m_current, m_frame);
        m_frameHeld = false;
        m_currentValid = true;
        frame->index = m_nextIndex++;
        frame->timed = pts != AV_NOPTS_VALUE;
        frame->timestampMs = frame->timed ? toMs(pts) : -1;
        frame->hasPicture = true;
        if (m_filter)
            m_filter(frame->index, frame->timestampMs); // keeps a stateful filter in step
        return Result::Frame;
    }
}

bool VideoDecoder::rotateUpright(cv::Mat *image) const
{
    switch (m_info.rotation) {
    case 90:
        cv::rotate(*image, *image, cv::ROTATE_90_CLOCKWISE);
        break;
    case 180:
        cv::rotate(*image, *image, cv::ROTATE_180);
        break;
    case 270:
        cv::rotate(*image, *image, cv::ROTATE_90_COUNTERCLOCKWISE);
        break;
    default:
        break;
    }
    return true;
}

bool VideoDecoder::toBgr(cv::Mat *bgr, QString *error)
{
    if (!convertToBgr(bgr, error))
        return false;
    ++m_counters.framesConverted;
    return true;
}

bool VideoDecoder::convertToBgr(cv::Mat *bgr, QString *error)
{
    if (!m_currentValid || m_current->width <= 0 || m_current->height <= 0) {
        if (error)
            *error = QStringLiteral("%1: the frame was not decoded").arg(m_path);
        return false;
    }
    const int width = m_current->width;
    const int height = m_current->height;
    if (!m_bgrScaler || width != m_scalerWidth || height != m_scalerHeight || m_current->format != m_scalerFormat) {
        sws_freeContext(m_bgrScaler);
        // The JPEG-range formats are the same planes at full range: named so, swscale would
        // warn on every frame and its cache would not recognise its own context.
        AVPixelFormat format = AVPixelFormat(m_current->format);
        bool fullRange = m_current->color_range == AVCOL_RANGE_JPEG;
        switch (format) {
        case AV_PIX_FMT_YUVJ420P: format = AV_PIX_FMT_YUV420P; fullRange = true; break;
        case AV_PIX_FMT_YUVJ422P: format = AV_PIX_FMT_YUV422P; fullRange = true; break;
        case AV_PIX_FMT_YUVJ444P: format = AV_PIX_FMT_YUV444P; fullRange = true; break;
        case AV_PIX_FMT_YUVJ440P: format = AV_PIX_FMT_YUV440P; fullRange = true; break;
        case AV_PIX_FMT_YUVJ411P: format = AV_PIX_FMT_YUV411P; fullRange = true; break;
        default: break;
        }
        // Bicubic as OpenCV's videoio converts (no scaling here, so only its colour conversion
        // matters): the same pixels as before for the same frame.
        m_bgrScaler = sws_getContext(width, height, format, width, height, AV_PIX_FMT_BGR24, SWS_BICUBIC, nullptr, nullptr,
                                     nullptr);
        if (m_bgrScaler && fullRange) {
            const int *coefficients = sws_getCoefficients(SWS_CS_DEFAULT);
            sws_setColorspaceDetails(m_bgrScaler, coefficients, 1, coefficients, 1, 0, 1 << 16, 1 << 16);
        }
        m_scalerWidth = width;
        m_scalerHeight = height;
        m_scalerFormat = m_current->format;
    }
    if (!m_bgrScaler) {
        if (error)
            *error = QStringLiteral("%1: frames in pixel format %2 cannot be converted")
                         .arg(m_path, QString::fromLatin1(av_get_pix_fmt_name(AVPixelFormat(m_current->format))));
        return false;
    }
    cv::Mat out(height, width, CV_8UC3);
    uint8_t *planes[4] = {out.data, nullptr, nullptr, nullptr};
    int strides[4] = {int(out.step[0]), 0, 0, 0};
    sws_scale(m_bgrScaler, m_current->data, m_current->linesize, 0, height, planes, strides);
    rotateUpright(&out);
    *bgr = out;
    return true;
}

bool VideoDecoder::yuv420Planes(cv::Mat *y, cv::Mat *cb, cv::Mat *cr, bool *fullRange) const
{
    if (!m_currentValid || m_info.rotation != 0
        || (m_current->format != AV_PIX_FMT_YUV420P && m_current->format != AV_PIX_FMT_YUVJ420P))
        return false;
    const int width = m_current->width;
    const int height = m_current->height;
    *y = cv::Mat(height, width, CV_8UC1, m_current->data[0], std::size_t(m_current->linesize[0]));
    *cb = cv::Mat((height + 1) / 2, (width + 1) / 2, CV_8UC1, m_current->data[1], std::size_t(m_current->linesize[1]));
    *cr = cv::Mat((height + 1) / 2, (width + 1) / 2, CV_8UC1, m_current->data[2], std::size_t(m_current->linesize[2]));
    *fullRange = m_current->format == AV_PIX_FMT_YUVJ420P || m_current->color_range == AVCOL_RANGE_JPEG;
    return true;
}

bool VideoDecoder::toGrey(const cv::Size &size, cv::Mat *grey, QString *error)
{
    if (!m_currentValid || m_current->width <= 0 || m_current->height <= 0) {
        if (error)
            *error = QStringLiteral("%1: the frame was not decoded").arg(m_path);
        return false;
    }
    const AVPixFmtDescriptor *descriptor = av_pix_fmt_desc_get(AVPixelFormat(m_current->format));
    const bool lumaPlane = descriptor && !(descriptor->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL))
        && !(descriptor->flags & AV_PIX_FMT_FLAG_HWACCEL) && descriptor->nb_components >= 1
        && descriptor->comp[0].plane == 0 && descriptor->comp[0].step == 1 && descriptor->comp[0].depth == 8
        && descriptor->comp[0].shift == 0;
    const cv::Size stored = m_info.rotation % 180 ? cv::Size(size.height, size.width) : size;
    cv::Mat small;
    if (lumaPlane) {
        const cv::Mat luma(m_current->height, m_current->width, CV_8UC1, m_current->data[0],
                           std::size_t(m_current->linesize[0]));
        cv::resize(luma, small, stored, 0, 0, cv::INTER_AREA);
        const bool fullRange = m_current->color_range == AVCOL_RANGE_JPEG
            || QByteArray(descriptor->name).startsWith("yuvj");
        // Video luma spans 16..235: the grey of its BGR conversion spans 0..255. BT.601's grey
        // weights applied to its own RGB give back luma exactly (but for clipping).
        if (!fullRange)
            small.convertTo(small, CV_8U, 255.0 / 219.0, -16.0 * 255.0 / 219.0);
    } else {
        cv::Mat bgr;
        if (!convertToBgr(&bgr, error))
            return false;
        cv::resize(bgr, small, size, 0, 0, cv::INTER_AREA);
        cv::cvtColor(small, small, cv::COLOR_BGR2GRAY);
        *grey = small;
        return true;
    }
    rotateUpright(&small);
    *grey = small;
    return true;
}

} // namespace edgelens
