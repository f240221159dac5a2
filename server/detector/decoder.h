#pragma once

#include "models/modelmanifest.h"

#include <QString>

#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>

#include <cmath>
#include <memory>
#include <vector>

namespace edgelens {

// One raw detection as a decoder produces it: before NMS, in input-canvas pixels (the
// network's width x height, i.e. after letterbox or stretch).
struct Candidate
{
    int classId = -1;
    float score = 0.0f;
    cv::Rect2f box; // x, y, width, height on the canvas
};

// Turns one model family's output tensors into candidates. Kept apart from cv::dnn::Net so
// tests can feed synthetic tensors with known answers.
class Decoder
{
    Q_DISABLE_COPY_MOVE(Decoder) // used through the base: a copy would slice

public:
    // What a family's score outputs hold (manifest decoder.scores): the same network exported
    // by different tools comes either way, e.g. YOLOX's own export_onnx.py applies sigmoid to
    // objectness and classes, the bubbliiiing export does not.
    enum class Scores { Logits, Probabilities };

    virtual ~Decoder() = default;

    // outputs: the net's outputs in getUnconnectedOutLayersNames() order (decoders that care
    // about which is which match by shape, never by name). Appends candidates scoring at
    // least threshold; false with *error when the tensors do not fit the family.
    virtual bool decode(const std::vector<cv::Mat> &outputs, float threshold, std::vector<Candidate> &candidates,
                        QString *error) const = 0;

    // The decoder for manifest.family with manifest.decoder's settings; nullptr + *error when
    // the family has no tensor decoder (cascade) or a setting is invalid.
    static std::unique_ptr<Decoder> create(const ModelManifest &manifest, QString *error);

protected:
    Decoder() = default;

    static float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
    static float probability(Scores scores, float x) { return scores == Scores::Logits ? sigmoid(x) : x; }

    struct ClassScore
    {
        int classId = 0;
        float score = 0.0f;
    };
    // The best of numClasses scores read through scoreOf(c); the lowest class wins a tie, as
    // with std::max_element. Families differ in layout (rows, channel-major, logits), not here.
    template<typename ScoreOf>
    static ClassScore bestClass(int numClasses, ScoreOf scoreOf)
    {
        ClassScore best{0, scoreOf(0)};
        for (int c = 1; c < numClasses; ++c) {
            const float score = scoreOf(c);
            if (score > best.score)
                best = {c, score};
        }
        return best;
    }

    // For families with one output: the last one accepted by matches(tensor), or nullptr.
    template<typename Matches>
    static const cv::Mat *findOutput(const std::vector<cv::Mat> &outputs, Matches matches)
    {
        const cv::Mat *found = nullptr;
        for (const cv::Mat &out : outputs) {
            if (matches(out))
                found = &out;
        }
        return found;
    }

    // "<family>: expected <expected>, got <the outputs' shapes>" into *error; returns false.
    static bool unexpectedOutputs(const QString &family, const QString &expected, const std::vector<cv::Mat> &outputs,
                                  QString *error);
};

} // namespace edgelens
