// PLACEHOLDER: replaced by the view's owner this session.
export default function View() {
  return <p>tasks</p>;
}
