#include "widgets/annotationcommand.h"

#include "widgets/detailview.h"

namespace edgelens {

AnnotationCommand::AnnotationCommand(DetailView *view, const QString &path, const State &before, const State &after,
                                     const QString &text, int mergeKey)
    : QUndoCommand(text)
    , m_view(view)
    , m_path(path)
    , m_before(before)
    , m_after(after)
    , m_mergeKey(mergeKey)
{
}

void AnnotationCommand::undo()
{
    m_view->applyState(m_path, m_before.model, m_before.annotation);
}

void AnnotationCommand::redo()
{
    m_view->applyState(m_path, m_after.model, m_after.annotation);
}

bool AnnotationCommand::mergeWith(const QUndoCommand *other)
{
    const auto *next = static_cast<const AnnotationCommand *>(other);
    if (next->m_path != m_path)
        return false;
    m_after = next->m_after;
    return true;
}

} // namespace edgelens
