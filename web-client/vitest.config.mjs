// Unit tests are the pure modules' specifications; the browser itself is covered by e2e/.
export default {
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
};
